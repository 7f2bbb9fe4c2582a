from django.urls import path

from recordings import views

app_name = "recordings"
urlpatterns = [
    path("segments/<int:pk>/", views.segment_file, name="segment"),
    path("files/<path:path>", views.recording_file, name="file"),
    path("media/<path:path>", views.media_file, name="media"),
    path("private/<path:path>", views.private_media_file, name="private_media"),
    path("export/", views.export, name="export"),
    path("cameras/<slug:slug>/still.jpg", views.camera_still, name="still"),
]
