"""Helpers for driving the ASGI application's sockets from tests."""

from __future__ import annotations

from django.conf import settings as django_settings

OUR_ORIGIN = b"http://localhost"
TIMEOUT = 5  # seconds a step may take before the test fails (never waited out when all is well)


def headers_for(client, origin: bytes | None = OUR_ORIGIN) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin)] if origin else []
    cookie = client.cookies.get(django_settings.SESSION_COOKIE_NAME)
    if cookie is not None:
        headers.append((b"cookie", f"{cookie.key}={cookie.value}".encode()))
    return headers
