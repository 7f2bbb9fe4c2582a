import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from accounts.permissions import has_role
from ainvr.realtime import ALERTS_GROUP, camera_group
from cameras.live_channel import WATCH_TTL_S, join_channel, live_group, redis_db, watch_key
from cameras.models import Camera

log = logging.getLogger("ainvr.live")


@database_sync_to_async
def enabled_camera_slugs() -> list[str]:
    return list(Camera.objects.enabled().values_list("slug", flat=True))


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """The dashboard's socket: camera status changes, detections and alerts.

    Refuses anyone without a role (the handshake fails with 403). Joins one group per
    enabled camera plus, for admins, the (employee) alerts group, and forwards what services broadcast there
    (ainvr.realtime). Nothing is accepted from the browser."""

    async def connect(self):
        if not has_role(self.scope.get("user")):
            await self.close()
            return
        self.groups_joined = [camera_group(slug) for slug in await enabled_camera_slugs()]
        if self.scope["user"].is_admin:  # employee alerts name people: attendance is for admins
            self.groups_joined.append(ALERTS_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # the dashboard only listens

    async def dashboard_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"]})


@database_sync_to_async
def camera_is_enabled(slug: str) -> bool:
    return Camera.objects.enabled().filter(slug=slug).exists()


class LiveConsumer(AsyncWebsocketConsumer):
    """`/ws/live/<camera>/`: the camera's video as fragmented MP4 for Media Source Extensions.

    First a text message {"type": "init", "codec": "avc1.64001F", "epoch": <Unix s of media
    time 0>}, then the init segment (binary), then media fragments (binary) from a keyframe
    on: the current GOP at once (the relay holds it), then each frame as it comes. A new
    init follows when the camera reconnects with other settings. Text
    messages {"type": "detections", ...} (cameras.live.detections_payload) carry the AI
    boxes of each analysed frame. Refused (403) to anyone without a
    role, and for unknown or disabled cameras."""

    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.ready = False
        if not has_role(self.scope.get("user")) or not await camera_is_enabled(self.slug):
            await self.close()
            return
        self.redis = live_redis()
        if self.redis is None:
            await self.close()  # no channel layer between processes: nothing can reach us
            return
        # The browser opens one socket at a time to a host (RFC 6455 4.1): accept first, so
        # that the next tile's handshake starts sooner; nothing reaches us before we join.
        await self.accept()
        await self.channel_layer.group_add(live_group(self.slug), self.channel_name)
        # Tell the camera's relay at once (it reads joins a few times a second) and keep
        # the watching key that tells it when the last viewer has gone.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(watch_key(self.slug), 1, ex=WATCH_TTL_S)
            pipe.publish(join_channel(self.slug, redis_db(self.redis)), self.channel_name)
            await pipe.execute()
        self.keepalive = asyncio.ensure_future(self._keep_watching())

    async def disconnect(self, code):
        if getattr(self, "keepalive", None):
            self.keepalive.cancel()
        if getattr(self, "redis", None) is not None:
            await self.channel_layer.group_discard(live_group(self.slug), self.channel_name)
            await self.redis.aclose()

    async def receive(self, text_data=None, bytes_data=None):
        pass  # viewers only listen

    async def live_init(self, message):
        await self._send_init(message["codec"], message["epoch"], message["data"])

    async def live_catchup(self, message):
        """For this viewer alone, having joined while others watched: the init and the
        current GOP. Ignored when the group's own init got here first."""
        if self.ready:
            return
        await self._send_init(message["codec"], message["epoch"], message["init"])
        if message["media"]:
            await self.send(bytes_data=message["media"])
            self.waiting_for_keyframe = False

    async def live_detections(self, message):
        if self.ready:
            await self.send(text_data=json.dumps({"type": "detections", **message["payload"]}))

    async def live_fragment(self, message):
        if not self.ready:
            return
        if self.waiting_for_keyframe:
            if not message["keyframe"]:
                return
            self.waiting_for_keyframe = False
        await self.send(bytes_data=message["data"])

    async def _send_init(self, codec: str, epoch: float, data: bytes):
        await self.send(text_data=json.dumps({"type": "init", "codec": codec, "epoch": epoch}))
        await self.send(bytes_data=data)
        self.ready = True
        self.waiting_for_keyframe = True

    async def _keep_watching(self):
        while True:
            await asyncio.sleep(WATCH_TTL_S / 3)
            try:
                await self.redis.set(watch_key(self.slug), 1, ex=WATCH_TTL_S)
            except Exception:  # Redis away for a moment: the next round tries again
                log.debug("could not renew the watch key of %s", self.slug, exc_info=True)


def live_redis():
    """An asyncio Redis client for the live keys, or None when there is no REDIS_URL."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    import redis.asyncio

    return redis.asyncio.Redis.from_url(settings.REDIS_URL)
