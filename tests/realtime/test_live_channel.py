"""RedisLiveChannel, the capture process's publisher of live video: every fragment reaches a
viewer's channel, in order, through one Redis connection kept open (a new loop and
connection per message cost ~10x more, and 8 cameras at 15 fragments a second fell behind)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import redis
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from cameras.live import RedisLiveChannel, live_group


def layer_configs() -> tuple[str, dict, dict]:
    """A client name for the publisher's connections, its layer config and the viewer's
    (the same prefix: they share groups; the viewer's connections are not named)."""
    name, prefix = f"ainvr-live-test-{uuid.uuid4().hex[:8]}", f"ainvr-test-{uuid.uuid4().hex}"
    publisher = {"hosts": [{"address": settings.REDIS_URL, "client_name": name}], "prefix": prefix, "expiry": 30}
    return name, publisher, {"hosts": [settings.REDIS_URL], "prefix": prefix, "expiry": 30}


def connections_named(name: str) -> int:
    clients = redis.Redis.from_url(settings.REDIS_URL).client_list()
    return sum(1 for c in clients if c.get("name") == name)


def test_every_fragment_reaches_the_viewer_in_order_through_one_kept_connection():
    name, publisher, viewer_config = layer_configs()
    channel = RedisLiveChannel(settings.REDIS_URL, layer_config=publisher)
    viewer = RedisChannelLayer(**viewer_config)
    open_while_publishing = []

    async def scenario():
        inbox = await viewer.new_channel()
        await viewer.group_add(live_group("hall"), inbox)

        def publish():
            for n in range(60):
                channel.publish_fragment("hall", n.to_bytes(2, "big") * 100, keyframe=n % 15 == 0)
            open_while_publishing.append(connections_named(name))

        # A thread without a running loop, like the capture loop.
        await asyncio.to_thread(publish)
        received = [await asyncio.wait_for(viewer.receive(inbox), 5) for _ in range(60)]
        await viewer.flush()
        return received

    try:
        received = asyncio.run(scenario())
    finally:
        channel.close()
    assert [int.from_bytes(m["data"][:2], "big") for m in received] == list(range(60))
    assert [m["keyframe"] for m in received] == [n % 15 == 0 for n in range(60)]
    assert open_while_publishing == [1]  # one connection, still open after 60 messages
    assert connections_named(name) == 0  # close() let it go


def test_a_closed_channel_publishes_again():
    _, publisher, viewer_config = layer_configs()
    channel = RedisLiveChannel(settings.REDIS_URL, layer_config=publisher)
    viewer = RedisChannelLayer(**viewer_config)
    got = []

    async def scenario():
        inbox = await viewer.new_channel()
        await viewer.group_add(live_group("hall"), inbox)

        def publish_close_publish():
            channel.publish_fragment("hall", b"one", keyframe=True)
            channel.close()
            channel.publish_fragment("hall", b"two", keyframe=False)

        thread = threading.Thread(target=publish_close_publish)
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        for _ in range(2):
            got.append((await asyncio.wait_for(viewer.receive(inbox), 5))["data"])
        await viewer.flush()

    try:
        asyncio.run(scenario())
    finally:
        channel.close()
    assert got == [b"one", b"two"]
