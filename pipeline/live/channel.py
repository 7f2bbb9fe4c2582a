"""The live video's Redis side: the channel layer's groups and the keys and pub/sub channel
beside them, for processes with or without Django settings (pipeline.live.relay has the relay)."""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    import redis
    from redis.client import PubSub

from core.redis_client import redis_client

log = logging.getLogger("ainvr.live")

WATCH_TTL_S = 15  # a viewer renews its key every 5 s


SUB = "sub"  # the camera's sub-stream: what grid tiles play


def live_key(slug: str, stream: str = "main") -> str:
    """The relay a socket watches: the camera's main stream, or its sub-stream. A slug has no
    dot, so "<slug>.sub" is never another camera's key."""
    return f"{slug}.{SUB}" if stream == SUB else slug


def live_group(key: str) -> str:
    """The video of one relay (live_key)."""
    return f"live.{key}"


def detections_group(slug: str) -> str:
    """A camera's AI boxes: the same for whichever of its streams a viewer plays."""
    return f"live-ai.{slug}"


def watch_key(slug: str) -> str:
    return f"ainvr:live:watch:{slug}"


def join_channel(slug: str, db: int = 0) -> str:
    """The pub/sub channel on which a new viewer publishes its channel-layer name. Pub/sub
    ignores Redis's database numbers: the number is in the name, so that two sites sharing
    one Redis server on different databases do not hear each other's viewers."""
    return f"ainvr:live:join:{db}:{slug}"


def redis_db(client: Any) -> int:
    """The database number a (sync or asyncio) redis-py client uses."""
    return int(client.connection_pool.connection_kwargs.get("db") or 0)


class _SocketWatch:
    """Whether anything can have arrived for a redis-py PubSub, answered by one poll() of its
    connection's socket. The socket is looked up on every call: redis-py reconnects by itself
    (a new socket, maybe under another descriptor number)."""

    EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP

    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self._sock = None
        self._poller: select.poll | None = None

    def quiet(self) -> bool:
        """True when nothing arrived; False when something did, or when the socket cannot be
        seen (then the caller reads through redis-py, as it would without this)."""
        sock = getattr(getattr(self.pubsub, "connection", None), "_sock", None)
        if sock is None:
            return False
        poller = self._poller  # made with self._sock, which is not None here
        if sock is not self._sock or poller is None:
            self._sock, self._poller = sock, (poller := select.poll())
            poller.register(sock, self.EVENTS)
        return not poller.poll(0)


class RedisLiveChannel:
    """Publishing through the Redis channel layer, and the keys beside it. Use one from one
    thread, where no event loop runs (a capture loop, the detector's loop).

    `layer_config` (CHANNEL_LAYERS["default"]["CONFIG"]) builds the layer directly, for a
    process without Django settings; without it the configured layer is used.

    The channel keeps its own event loop: async_to_sync would start a thread, a loop and a
    new Redis connection for every message, too slow for 15 fragments a second per camera
    (bench/README.md, "The live relay's check for viewers")."""

    RESUBSCRIBE_S = 5.0  # after Redis went away, try the join channel again this often

    def __init__(
        self, redis_url: str, *, layer_config: dict[str, Any] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.redis_url = redis_url
        self.layer_config = layer_config
        self.clock = clock
        self._redis: redis.Redis | None = None
        self._layer: Any = None  # a channels layer (BaseChannelLayer), made at the first message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pubsub: PubSub | None = None
        self._watch: _SocketWatch | None = None  # the subscription's socket
        self._subscribe_at = 0.0

    def _client(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis_client(self.redis_url)
        return self._redis

    def is_watched(self, slug: str) -> bool:
        return bool(self._client().exists(watch_key(slug)))

    def joined(self, slug: str) -> list[str]:
        """Channel names of the viewers that joined since the last call, without waiting.
        Subscribes on the first call; a broken connection is dropped and tried again later
        (meanwhile is_watched() still finds viewers, only later)."""
        if self._pubsub is None:
            if self.clock() < self._subscribe_at:
                return []
            self._subscribe_at = self.clock() + self.RESUBSCRIBE_S
            try:
                # Subscribe confirmations are read as messages, not skipped: get_message()
                # returns None for a skipped one, which would end the loop below with a
                # join still in redis-py's buffer, where the socket poll cannot see it.
                self._pubsub = self._client().pubsub(ignore_subscribe_messages=False)
                self._pubsub.subscribe(join_channel(slug, redis_db(self._client())))
                self._watch = _SocketWatch(self._pubsub)
            except Exception:
                log.debug("%s: cannot subscribe to viewers joining", slug, exc_info=True)
                self._drop_pubsub()
            return []
        names = []
        try:
            if self._watch is not None and self._watch.quiet():
                # Nothing arrived (and redis-py's buffer is empty: the loop below drains
                # it). One poll() instead of get_message(), which toggles the socket's
                # timeout and raises and catches an exception when there is nothing, a large
                # share of a capture process with no viewer (bench/README.md, "The live
                # relay's check for viewers").
                return []
            while (message := self._pubsub.get_message(timeout=0.0)) is not None:
                if message.get("type") == "message":
                    names.append(message["data"].decode())
        except Exception:
            log.debug("%s: lost the join channel", slug, exc_info=True)
            self._drop_pubsub()
        return names

    def publish_init(self, slug: str, codec: str, data: bytes, epoch: float) -> None:
        self._send(live_group(slug), {"type": "live.init", "codec": codec, "epoch": epoch, "data": data})

    def publish_catchup(self, viewer: str, *, codec: str, epoch: float, init: bytes, media: bytes) -> None:
        """The init and the current GOP's fragments (joined), for one viewer who joined late."""
        message = {"type": "live.catchup", "codec": codec, "epoch": epoch, "init": init, "media": media}
        self._send(viewer, message, group=False)

    def publish_detections(self, slug: str, payload: dict[str, Any]) -> None:
        """What the detector saw in one frame, for the overlays: see publish_detections()."""
        self._send(detections_group(slug), {"type": "live.detections", "payload": payload})

    def publish_fragment(self, slug: str, data: bytes, keyframe: bool) -> None:
        self._send(live_group(slug), {"type": "live.fragment", "data": data, "keyframe": keyframe})

    def close(self) -> None:
        """Close the Redis connections and the loop (the channel can be used again after)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                if hasattr(self._layer, "close_pools"):  # the in-memory layer has none
                    loop.run_until_complete(self._layer.close_pools())
            finally:
                loop.close()
        self._drop_pubsub()
        self._subscribe_at = 0.0
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def _drop_pubsub(self) -> None:
        pubsub, self._pubsub, self._watch = self._pubsub, None, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:
                log.debug("closing the join subscription failed", exc_info=True)

    def _send(self, target: str, message: dict[str, Any], *, group: bool = True) -> None:
        import asyncio

        if self._layer is None:
            if self.layer_config:
                from channels_redis.core import RedisChannelLayer

                self._layer = RedisChannelLayer(**self.layer_config)
            else:
                from channels.layers import get_channel_layer

                self._layer = get_channel_layer()
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        send = self._layer.group_send if group else self._layer.send
        self._loop.run_until_complete(send(target, message))
