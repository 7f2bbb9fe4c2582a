"""The dashboard's WebSocket (/ws/dashboard/): who may connect, and which events reach them.

Each test drives the real ASGI application (ainvr.asgi) with a session cookie, from a sync
test through async_to_sync. The tests are transactional (rows really commit): Channels'
database_sync_to_async closes any connection left inside a transaction, so the usual
test-wide transaction cannot be used, and on-commit hooks run on real commits.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from ainvr.asgi import application
from cameras.services import update_camera_status
from core.realtime import ALERTS_GROUP, broadcast_on_commit, camera_group, send_now
from tests.pipeline.live.sockets import TIMEOUT, connects, headers_for

PATH = "/ws/dashboard/"


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spare_camera(db):
    from cameras.models import Camera
    from cameras.services import save_camera

    return save_camera(Camera(name="Spare", slug="spare", stream_url="rtsp://192.0.2.30:554/main"))


def events_after(headers, change, count: int = 1) -> list[dict]:
    """Connect, run `change` (sync, ORM allowed) on the test's thread, return the next
    `count` events the socket receives."""

    async def scenario():
        communicator = WebsocketCommunicator(application, PATH, headers=headers)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        try:
            await database_sync_to_async(change)()
            return [await communicator.receive_json_from(timeout=TIMEOUT) for _ in range(count)]
        finally:
            await communicator.disconnect()
            layer = get_channel_layer()
            if hasattr(layer, "flush"):
                await layer.flush()  # drops this test's keys (Redis) or queues (memory)

    return async_to_sync(scenario)()


def test_anonymous_is_refused(in_memory_layer, camera, anon_client):
    assert connects(PATH, headers_for(anon_client)) is False


@pytest.mark.parametrize("persona", ["admin", "operator"])
def test_a_logged_in_user_with_a_role_connects(persona, in_memory_layer, camera, persona_client):
    assert connects(PATH, headers_for(persona_client(persona))) is True


def test_an_inactive_user_is_refused(in_memory_layer, camera, operator_user, persona_client):
    client = persona_client("operator")
    operator_user.is_active = False
    operator_user.save()
    assert connects(PATH, headers_for(client)) is False


def test_a_foreign_origin_is_refused(in_memory_layer, camera, operator_client):
    assert connects(PATH, headers_for(operator_client, origin=b"http://evil.example")) is False


def test_a_socket_without_an_origin_is_refused(in_memory_layer, camera, operator_client):
    assert connects(PATH, headers_for(operator_client, origin=None)) is False


@pytest.mark.parametrize("persona", ["admin", "operator"])
def test_a_committed_status_change_reaches_the_dashboard(persona, in_memory_layer, camera, persona_client):
    def change():
        update_camera_status(camera, state="online", fps=12.5, width=1280, height=720, codec="h264")

    [message] = events_after(headers_for(persona_client(persona)), change)

    assert message["event"] == "camera.status"
    payload = message["payload"]
    assert payload.pop("last_frame_at")  # stamped by the service
    assert payload == {
        "camera": "gate",
        "state": "online",
        "fps": 12.5,
        "resolution": "1280x720",
        "codec": "h264",
        "last_error": "",
    }


def test_the_event_is_sent_only_when_the_transaction_commits(in_memory_layer, camera, operator_client):
    def change():
        with transaction.atomic():
            update_camera_status(camera, state="online")
            # Sent at once: had the status gone out before the commit, it would come first.
            send_now(camera_group(camera.slug), "probe", {"sent": "inside the transaction"})

    first, second = events_after(headers_for(operator_client), change, count=2)

    assert first["event"] == "probe"
    assert (second["event"], second["payload"]["state"]) == ("camera.status", "online")


def test_a_rolled_back_status_change_never_reaches_the_dashboard(in_memory_layer, camera, operator_client):
    def change():
        with transaction.atomic():
            update_camera_status(camera, state="online")
            transaction.set_rollback(True)
        # Then a change that commits: had the first leaked, it would arrive before this one.
        update_camera_status(camera, state="error", last_error="no signal")

    [message] = events_after(headers_for(operator_client), change)

    assert (message["event"], message["payload"]["state"]) == ("camera.status", "error")
    camera.status.refresh_from_db()
    assert camera.status.state == "error"


def test_a_refresh_without_a_change_of_state_is_not_broadcast(in_memory_layer, camera, operator_client):
    def change():
        update_camera_status(camera, state="offline", fps=1.0)  # offline already
        update_camera_status(camera, state="online", fps=2.0)

    [message] = events_after(headers_for(operator_client), change)

    assert (message["payload"]["state"], message["payload"]["fps"]) == ("online", 2.0)


def test_a_disabled_camera_is_not_followed(in_memory_layer, camera, spare_camera, operator_client):
    spare_camera.enabled = False
    spare_camera.save()

    def change():
        update_camera_status(spare_camera, state="online")
        update_camera_status(camera, state="online")

    [message] = events_after(headers_for(operator_client), change)

    assert message["payload"]["camera"] == "gate"


def test_alerts_reach_the_dashboard(in_memory_layer, camera, admin_client):
    def change():
        with transaction.atomic():
            broadcast_on_commit(ALERTS_GROUP, "attendance.alert", {"employee": "E1", "kind": "absence"})

    [message] = events_after(headers_for(admin_client), change)

    assert message == {"event": "attendance.alert", "payload": {"employee": "E1", "kind": "absence"}}


def test_employee_alerts_never_reach_an_operator(in_memory_layer, camera, operator_client):
    def change():
        with transaction.atomic():
            broadcast_on_commit(ALERTS_GROUP, "alert.created", {"employee": "Eve", "kind": "absence"})
            broadcast_on_commit(camera_group(camera.slug), "probe", {"after": "the alert"})

    [message] = events_after(headers_for(operator_client), change)

    assert message == {"event": "probe", "payload": {"after": "the alert"}}


def test_what_the_browser_sends_is_ignored(in_memory_layer, camera, operator_client):
    async def scenario():
        communicator = WebsocketCommunicator(application, PATH, headers=headers_for(operator_client))
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        await communicator.send_json_to(
            {"type": "dashboard.event", "event": "camera.status", "payload": {"forged": True}}
        )
        await database_sync_to_async(update_camera_status)(camera, state="online")
        message = await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert message["payload"]["camera"] == "gate"  # the real event, nothing echoed before it


def test_the_redis_channel_layer_carries_status_changes(redis_layer, camera, operator_client):
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)

    def change():
        update_camera_status(camera, state="online")
        update_camera_status(camera, state="offline")

    messages = events_after(headers_for(operator_client), change, count=2)

    assert [m["payload"]["state"] for m in messages] == ["online", "offline"]
