from django.urls import path

from attendance import views

app_name = "attendance"

urlpatterns = [
    path("", views.panel, name="panel"),
    path("state.json", views.panel_state, name="state"),
    path("report/", views.report, name="report"),
]
