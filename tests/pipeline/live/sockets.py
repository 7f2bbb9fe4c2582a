"""Helpers for driving the ASGI application's sockets from tests."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

OUR_ORIGIN = b"http://localhost"
TIMEOUT = 5  # seconds a step may take before the test fails (never waited out when all is well)


def headers_for(client, origin: bytes | None = OUR_ORIGIN) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin)] if origin else []
    cookie = client.cookies.get(django_settings.SESSION_COOKIE_NAME)
    if cookie is not None:
        headers.append((b"cookie", f"{cookie.key}={cookie.value}".encode()))
    return headers


def connects(path: str, headers) -> bool:
    """Whether the ASGI application accepts a socket at `path` with these headers."""
    from ainvr.asgi import application

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        # A refused socket too: the consumer still waits for the client's disconnect, and a
        # task left pending hung the closing event loop now and then (300 s in CI).
        await communicator.disconnect(timeout=TIMEOUT)
        return connected

    return async_to_sync(scenario)()
