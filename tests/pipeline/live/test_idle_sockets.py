"""A live socket idle for longer than 5 s stays up with the production channel layer.

redis-py 8 made 5 s the default socket timeout, the same as channels_redis's blocking wait
for messages (BZPOPMIN): each web process's receive loop then failed every 5 s and took a
socket down with "Timeout reading from ...:6379" (django/channels_redis#422); the live grid
reconnected that tile every 5 s."""

from __future__ import annotations

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from ainvr.asgi import application
from pipeline.live.channel import live_group, watch_key
from tests.pipeline.live.sockets import TIMEOUT, headers_for

pytestmark = pytest.mark.django_db(transaction=True)

IDLE_S = 7  # longer than the 5 s both defaults share


def test_an_idle_live_socket_outlives_the_redis_socket_timeout(redis_layer, camera, operator_client):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(watch_key("gate"))

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/live/gate/", headers=headers_for(operator_client))
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        assert await communicator.receive_nothing(timeout=IDLE_S)  # nothing comes, nothing breaks
        message = {"type": "live.init", "codec": "avc1.64001F", "epoch": 1.0, "data": b"INIT"}
        await get_channel_layer().group_send(live_group("gate"), message)
        first = await communicator.receive_output(timeout=TIMEOUT)
        await communicator.disconnect()
        return first

    first = async_to_sync(scenario)()
    client.delete(watch_key("gate"))

    assert first["type"] == "websocket.send" and '"init"' in first["text"]
