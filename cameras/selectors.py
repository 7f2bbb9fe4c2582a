"""Reads of cameras and layouts."""

from __future__ import annotations

from cameras.models import Camera, DashboardLayout
from cameras.streams import with_credentials


def stream_url_for_worker(camera: Camera, which: str = "main") -> str:
    """The URL to open a stream with, credentials included. Server-side only: workers
    and the connection test; never put this into a page or an API response."""
    if which == "detect":
        url = camera.detect_url or camera.stream_url
    elif which == "main":
        url = camera.stream_url
    else:
        raise ValueError(f"unknown stream {which!r}")
    return with_credentials(url, camera.username, camera.password)


def default_layout() -> DashboardLayout | None:
    return DashboardLayout.objects.prefetch_related("slots__camera").order_by("-is_default", "name").first()


def cameras_for_dashboard():
    return Camera.objects.enabled().with_status().order_by("name")
