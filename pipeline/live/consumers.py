import asyncio
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings

from accounts.permissions import has_role
from cameras.models import Camera
from core.realtime import ALERTS_GROUP, async_redis, camera_group
from pipeline.live import quota as live_quota
from pipeline.live.channel import (
    SUB,
    WATCH_TTL_S,
    detections_group,
    join_channel,
    live_group,
    live_key,
    redis_db,
    watch_key,
)

log = logging.getLogger("ainvr.live")


@database_sync_to_async
def enabled_camera_slugs() -> list[str]:
    return list(Camera.objects.enabled().values_list("slug", flat=True))


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """The dashboard's socket: camera status changes, detections and alerts.

    Refuses anyone without a role (the handshake fails with 403). Joins one group per
    enabled camera plus, for admins, the (employee) alerts group, and forwards what services broadcast there
    (core.realtime). Nothing is accepted from the browser."""

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
def camera_streams(slug: str) -> set[str] | None:
    """The live streams an enabled camera offers ("main", and "sub" when it has a
    sub-stream), or None for an unknown or disabled camera."""
    row = Camera.objects.enabled().filter(slug=slug).values_list("stream_url", "detect_url").first()
    if row is None:
        return None
    main, detect = row
    return {"main", SUB} if detect and detect != main else {"main"}


class LiveConsumer(AsyncWebsocketConsumer):
    """`/ws/live/<camera>/`: the camera's video as fragmented MP4 for Media Source Extensions.

    First a text message {"type": "init", "codec": "avc1.64001F", "epoch": <Unix s of media
    time 0>}, then the init segment (binary), then media fragments (binary) from a keyframe
    on: the current GOP at once (the relay holds it), then each frame as it comes. A new
    init follows when the camera reconnects with other settings. Text
    messages {"type": "detections", ...} (detection.overlay.detections_payload) carry the AI
    boxes of each analysed frame. Refused (403) to anyone without a
    role, and for unknown or disabled cameras. Past LIVE_SOCKETS_PER_USER sockets of one
    user or LIVE_SOCKETS_PER_PROCESS of this process, accepted, sent {"type": "refused",
    "code", "reason"} and closed with code 4429 or 4503 and the reason (pipeline.live.quota)."""

    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.ready = False
        self.redis = None
        self.holds_process_slot = self.holds_user_slot = False
        user = self.scope.get("user")
        streams = await camera_streams(self.slug) if has_role(user) else None
        if streams is None:
            await self.close()
            return
        # ?stream=sub: the sub-stream where the camera has one (grid tiles), else the main.
        asked = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("stream", ["main"])[0]
        self.key = live_key(self.slug, SUB if asked == SUB and SUB in streams else "main")
        self.user_id = user.pk
        self.redis = async_redis()
        if self.redis is None:
            await self.close()  # no channel layer between processes: nothing can reach us
            return
        # The browser opens one socket at a time to a host (RFC 6455 4.1): accept first, so
        # that the next tile's handshake starts sooner; nothing reaches us before we join.
        # (A refusal needs an accepted socket too: only a close frame carries a reason.)
        await self.accept()
        refusal = await self._claim_slots()
        if refusal is not None:
            log.info("live socket for %s refused to user %s: %s", self.slug, self.user_id, refusal.reason)
            # The reason also as a message: daphne (4.2) sends the close code without it.
            await self.send(text_data=json.dumps({"type": "refused", "code": refusal.code, "reason": refusal.reason}))
            await self.close(code=refusal.code, reason=refusal.reason)
            return
        await self.channel_layer.group_add(live_group(self.key), self.channel_name)
        await self.channel_layer.group_add(detections_group(self.slug), self.channel_name)
        # Tell the camera's relay at once (it reads joins a few times a second) and keep
        # the watching key that tells it when the last viewer has gone.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(watch_key(self.key), 1, ex=WATCH_TTL_S)
            pipe.publish(join_channel(self.key, redis_db(self.redis)), self.channel_name)
            await pipe.execute()
        self.keepalive = asyncio.ensure_future(self._keep_watching())

    async def disconnect(self, code):
        if getattr(self, "keepalive", None):
            self.keepalive.cancel()
        if getattr(self, "holds_process_slot", False):
            self.holds_process_slot = False
            live_quota.PROCESS_SLOTS.give_back()
        if getattr(self, "holds_user_slot", False):
            self.holds_user_slot = False
            await self.channel_layer.group_discard(live_group(self.key), self.channel_name)
            await self.channel_layer.group_discard(detections_group(self.slug), self.channel_name)
            try:
                await live_quota.release_user_slot(self.redis, self.user_id, self.channel_name)
            except Exception:  # Redis away: the entry expires after WATCH_TTL_S
                log.debug("could not release the live socket of user %s", self.user_id, exc_info=True)

    async def _claim_slots(self) -> live_quota.Refusal | None:
        """Take a place among this process's and this user's live sockets, or say why not."""
        per_process, per_user = settings.LIVE_SOCKETS_PER_PROCESS, settings.LIVE_SOCKETS_PER_USER
        if not live_quota.PROCESS_SLOTS.take(per_process):
            return live_quota.process_full(per_process)
        self.holds_process_slot = True
        try:
            claimed = await live_quota.claim_user_slot(
                self.redis, self.user_id, self.channel_name, per_user, now=time.time(), ttl=WATCH_TTL_S
            )
        except Exception:
            # Redis away: nothing would reach this socket anyway; the per-process cap holds.
            log.warning("could not count the live sockets of user %s", self.user_id, exc_info=True)
            claimed = True
        if not claimed:
            return live_quota.too_many_for_user(per_user)
        self.holds_user_slot = True
        return None

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
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.set(watch_key(self.key), 1, ex=WATCH_TTL_S)
                    live_quota.renew_user_slot(pipe, self.user_id, self.channel_name, now=time.time(), ttl=WATCH_TTL_S)
                    await pipe.execute()
            except Exception:  # Redis away for a moment: the next round tries again
                log.debug("could not renew the watch key of %s", self.slug, exc_info=True)
