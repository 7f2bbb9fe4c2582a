"""Realtime events to the browsers, sent only once the database agrees they happened.

Every push to the dashboard goes through broadcast_on_commit: a status or an alert is
sent after its transaction commits (Zulip's send_event_on_commit), so no browser ever
sees a change that was rolled back. A channel layer that is down costs a log line,
never the write that caused the event.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

ALERTS_GROUP = "alerts"
# The consumer method that receives group messages: "dashboard.event" -> dashboard_event().
DASHBOARD_MESSAGE_TYPE = "dashboard.event"


# A web process's asyncio Redis clients, one per event loop (asyncio connections belong to
# the loop that opened them; daphne runs one). Shared by every socket of that loop, as the
# channel layer's own pools are: a client per socket was a Redis connection per socket
# (bench/README.md, "Smaller figures from former code comments").
_ASYNC_CLIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# At most this many connections per loop; a busy moment waits for a free one (up to
# ASYNC_POOL_TIMEOUT_S) instead of opening more.
ASYNC_POOL_SIZE = 8
ASYNC_POOL_TIMEOUT_S = 5


def async_redis():
    """This event loop's shared asyncio Redis client (REDIS_URL), or None without Redis.
    Never close it: other sockets use it."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop)
    if client is None:
        import redis.asyncio

        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=ASYNC_POOL_SIZE, timeout=ASYNC_POOL_TIMEOUT_S
        )
        client = _ASYNC_CLIENTS[loop] = redis.asyncio.Redis.from_pool(pool)
    return client


def camera_group(slug: str) -> str:
    return f"camera.{slug}"


def send_now(group: str, event: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": DASHBOARD_MESSAGE_TYPE, "event": event, "payload": payload})
    except Exception:  # Redis down or full: the browsers miss one event; the data is safe in the database.
        log.warning("could not send %s to %s", event, group, exc_info=True)


def broadcast_on_commit(group: str, event: str, payload: dict) -> None:
    """Send `event` with its JSON-able payload to a group after the current transaction commits
    (at once when there is none)."""
    transaction.on_commit(lambda: send_now(group, event, payload))
