from django.urls import path

from notifications import views

# Included at the site root (ainvr/urls.py): the service worker must be served from "/" to
# control every page; everything else lives under /notifications/.
urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    path("notifications/push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("notifications/push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
]
