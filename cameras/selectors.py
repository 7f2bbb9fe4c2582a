"""Reads of cameras and layouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cameras import secrets
from cameras.models import Camera, DashboardLayout

if TYPE_CHECKING:
    from cameras.models import CameraQuerySet
from cameras.streams import with_credentials


def stream_url_for_worker(camera: Camera, which: str = "main") -> str:
    """The URL to open a stream with, credentials decrypted into it (as userinfo or under
    the query keys the camera takes). Server-side only: workers and the connection test;
    never put this into a page, an API response or a log line. Raises
    cameras.secrets.CredentialsUnreadable when the key does not match."""
    if which == "detect":
        url = camera.detect_url or camera.stream_url
    elif which == "main":
        url = camera.stream_url
    else:
        raise ValueError(f"unknown stream {which!r}")
    if not camera.has_credentials:
        return url
    return with_credentials(
        url, camera.username, camera.password, username_key=camera.username_key, password_key=camera.password_key
    )


def credentials_readable(camera: Camera) -> bool:
    """Whether the stored credentials decrypt with the keys this process has."""
    return secrets.readable(camera.encrypted_username) and secrets.readable(camera.encrypted_password)


def cameras_with_unreadable_credentials() -> list[Camera]:
    cameras = Camera.objects.exclude(encrypted_username="", encrypted_password="").order_by("name")
    return [camera for camera in cameras if not credentials_readable(camera)]


def default_layout() -> DashboardLayout | None:
    return DashboardLayout.objects.prefetch_related("slots__camera").order_by("-is_default", "name").first()


def cameras_for_dashboard() -> CameraQuerySet:
    return Camera.objects.enabled().with_status().order_by("name")


def unknown_enabled_slugs(slugs: list[str]) -> list[str]:
    """Those of `slugs` that name no enabled camera, sorted."""
    known = set(Camera.objects.enabled().filter(slug__in=slugs).values_list("slug", flat=True))
    return sorted(set(slugs) - known)
