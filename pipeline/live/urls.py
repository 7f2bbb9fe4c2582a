from django.urls import path

from pipeline.live import views

app_name = "live"
urlpatterns = [
    path("", views.grid, name="grid"),
    path("layouts/<int:pk>/", views.grid, name="layout"),
    path("alerts.json", views.alerts, name="alerts"),
]
