from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.permissions import has_role
from ainvr.realtime import ALERTS_GROUP, camera_group
from cameras.models import Camera


@database_sync_to_async
def enabled_camera_slugs() -> list[str]:
    return list(Camera.objects.enabled().values_list("slug", flat=True))


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """The dashboard's socket: camera status changes, detections and alerts.

    Refuses anyone without a role (the handshake fails with 403). Joins one group per
    enabled camera plus the alerts group, and forwards what services broadcast there
    (ainvr.realtime). Nothing is accepted from the browser."""

    async def connect(self):
        if not has_role(self.scope.get("user")):
            await self.close()
            return
        self.groups_joined = [ALERTS_GROUP] + [camera_group(slug) for slug in await enabled_camera_slugs()]
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
