from django.urls import path

from recordings import views

app_name = "recordings"
urlpatterns = [
    path("segments/<int:pk>/", views.segment_file, name="segment"),
    path("files/<path:path>", views.recording_file, name="file"),
    path("media/<path:path>", views.media_file, name="media"),
    path("export/", views.export, name="export"),
]
