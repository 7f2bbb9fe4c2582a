from django.urls import path

from pipeline.live.consumers import DashboardConsumer, LiveConsumer

websocket_urlpatterns = [
    path("ws/dashboard/", DashboardConsumer.as_asgi()),
    path("ws/live/<slug:slug>/", LiveConsumer.as_asgi()),
]
