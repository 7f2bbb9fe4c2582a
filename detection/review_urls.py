from django.urls import path

from detection import review_views

app_name = "review"
urlpatterns = [
    path("", review_views.review_page, name="page"),
    path("mark/", review_views.mark, name="mark"),
]
