"""RedisLiveChannel, the capture process's publisher of live video: every fragment reaches a
viewer's channel, in order, through one Redis connection kept open (a new loop and
connection per message cost ~10x more, and 8 cameras at 15 fragments a second fell behind)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from types import SimpleNamespace

import redis
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from pipeline.live.channel import RedisLiveChannel, join_channel, live_group
from tests.waiting import wait_for

DB = redis.Redis.from_url(settings.REDIS_URL).connection_pool.connection_kwargs.get("db") or 0


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


def wait_for_joins(channel, slug, count, timeout=5.0):
    """Poll as the relay does (never blocking) until `count` joins came, or the timeout."""
    names, deadline = [], time.monotonic() + timeout
    while len(names) < count and time.monotonic() < deadline:
        names += channel.joined(slug)
    return names


def test_viewers_joining_are_read_without_waiting():
    channel = RedisLiveChannel(settings.REDIS_URL)
    publisher = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert channel.joined("hall") == []  # subscribes: nothing has come yet
        wait_for(lambda: publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 1, 10, "the relay subscribed")
        publisher.publish(join_channel("hall", DB), "specific.abc!one")
        publisher.publish(join_channel("other", DB), "specific.abc!elsewhere")
        publisher.publish(join_channel("hall", DB), "specific.abc!two")

        assert wait_for_joins(channel, "hall", 2) == ["specific.abc!one", "specific.abc!two"]
        started = time.monotonic()
        assert channel.joined("hall") == []
        assert time.monotonic() - started < 0.5  # it did not wait for one (the capture loop must not stall)
    finally:
        channel.close()
    assert publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 0  # close() unsubscribed


def test_a_join_that_came_with_the_subscription_confirmation_is_not_left_in_the_buffer():
    """Both arrive before the relay reads: one socket read takes them into redis-py's
    buffer, where the relay's socket poll cannot see what is left."""
    channel = RedisLiveChannel(settings.REDIS_URL)
    publisher = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert channel.joined("hall") == []  # subscribes; the confirmation is not read yet
        wait_for(lambda: publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 1, 10, "the relay subscribed")
        publisher.publish(join_channel("hall", DB), "specific.abc!early")

        assert wait_for_joins(channel, "hall", 1, timeout=3) == ["specific.abc!early"]
    finally:
        channel.close()


def test_with_nothing_arriving_the_relay_does_not_read_through_redis_py(monkeypatch):
    """The capture loop asks before every packet: with no viewer joining, the answer must
    cost one poll() of the socket, not a get_message() (which raised and caught an
    exception each time: 0.13 % of a core per camera)."""
    channel = RedisLiveChannel(settings.REDIS_URL)
    publisher = redis.Redis.from_url(settings.REDIS_URL)
    try:
        channel.joined("hall")
        wait_for(lambda: publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 1, 10, "the relay subscribed")
        wait_for(lambda: channel.joined("hall") == [] and channel._watch.quiet(), 5, "the confirmation read")
        reads = []
        real_get_message = channel._pubsub.get_message
        monkeypatch.setattr(channel._pubsub, "get_message", lambda **kw: reads.append(kw) or real_get_message(**kw))
        for _ in range(100):
            assert channel.joined("hall") == []
        assert reads == []

        publisher.publish(join_channel("hall", DB), "specific.abc!one")
        assert wait_for_joins(channel, "hall", 1) == ["specific.abc!one"]
        assert reads  # it read when something came
    finally:
        channel.close()


def test_the_socket_watch_follows_the_socket_redis_py_reconnected_on():
    """redis-py may reconnect a PubSub by itself: the watch must look at the new socket."""
    from pipeline.live.channel import _SocketWatch

    first, first_peer = socket.socketpair()
    second, second_peer = socket.socketpair()
    pubsub = SimpleNamespace(connection=SimpleNamespace(_sock=first))
    watch = _SocketWatch(pubsub)
    try:
        assert watch.quiet()
        first_peer.send(b"+message")
        assert not watch.quiet()

        pubsub.connection._sock = second  # reconnected: the old socket's data is not ours any more
        assert watch.quiet()
        second_peer.send(b"+message")
        assert not watch.quiet()

        pubsub.connection = None  # between connections: unsure, so the caller reads
        assert not watch.quiet()
    finally:
        for s in (first, first_peer, second, second_peer):
            s.close()


def test_a_lost_join_subscription_is_taken_up_again():
    clock = [0.0]
    channel = RedisLiveChannel(settings.REDIS_URL, clock=lambda: clock[0])
    publisher = redis.Redis.from_url(settings.REDIS_URL)
    try:
        channel.joined("hall")
        port = channel._pubsub.connection._sock.getsockname()[1]
        (client,) = [c for c in publisher.client_list() if c["addr"].endswith(f":{port}")]
        publisher.client_kill_filter(_id=client["id"])  # as when Redis restarts
        assert publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 0

        def subscribed_again():
            clock[0] += channel.RESUBSCRIBE_S
            assert channel.joined("hall") == []  # a broken connection is not the capture loop's problem
            return publisher.pubsub_numsub(join_channel("hall", DB))[0][1] == 1

        wait_for(subscribed_again, 10, "subscribed again")
        publisher.publish(join_channel("hall", DB), "specific.abc!back")

        assert wait_for_joins(channel, "hall", 1) == ["specific.abc!back"]
    finally:
        channel.close()


def test_a_catch_up_reaches_only_the_viewer_it_is_for():
    _, publisher, viewer_config = layer_configs()
    channel = RedisLiveChannel(settings.REDIS_URL, layer_config=publisher)
    viewer = RedisChannelLayer(**viewer_config)

    async def scenario():
        late, early = await viewer.new_channel(), await viewer.new_channel()
        for inbox in (late, early):
            await viewer.group_add(live_group("hall"), inbox)
        await asyncio.to_thread(
            channel.publish_catchup, late, codec="avc1.64001F", epoch=1700000000.5, init=b"INIT", media=b"GOP"
        )
        await asyncio.to_thread(channel.publish_fragment, "hall", b"next", False)
        got_late = [await asyncio.wait_for(viewer.receive(late), 5) for _ in range(2)]
        got_early = await asyncio.wait_for(viewer.receive(early), 5)
        await viewer.flush()
        return got_late, got_early

    try:
        got_late, got_early = asyncio.run(scenario())
    finally:
        channel.close()
    assert got_late[0] == {
        "type": "live.catchup",
        "codec": "avc1.64001F",
        "epoch": 1700000000.5,
        "init": b"INIT",
        "media": b"GOP",
    }
    assert got_late[1]["data"] == b"next"
    assert got_early["data"] == b"next"  # the early viewer got the group's fragment, no catch-up
