from django.urls import path

from review import playback_views as views

app_name = "playback"
urlpatterns = [
    path("", views.playback_page, name="page"),
    path("timeline/", views.timeline, name="timeline"),
    path("boxes/", views.boxes, name="boxes"),
    path("preview.jpg", views.preview, name="preview"),
]
