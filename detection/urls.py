from django.urls import path

from detection import views

app_name = "analysis"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/status/", views.job_status, name="status"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
]
