from typing import Any

from django.urls import path

from pipeline.live.consumers import DashboardConsumer, LiveConsumer

# Channels routes ASGI apps with django.urls.path(), which django-stubs types for views only.
websocket_urlpatterns: list[Any] = [
    path("ws/dashboard/", DashboardConsumer.as_asgi()),  # type: ignore[arg-type]  # an ASGI app, for channels
    path("ws/live/<slug:slug>/", LiveConsumer.as_asgi()),  # type: ignore[arg-type]  # an ASGI app, for channels
]
