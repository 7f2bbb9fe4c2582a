"""/ws/live/<camera>/: refused without a role; a viewer announces itself to the camera's
relay, gets the init segment then fragments from a keyframe on (through the group, or as a
catch-up sent to it alone), and keeps the camera's "watching" key alive."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from ainvr.asgi import application
from detection.overlay import detections_payload
from pipeline.live.channel import detections_group, join_channel, live_group, redis_db, watch_key
from tests.pipeline.live.sockets import TIMEOUT, connects, headers_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_keys(camera):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(watch_key("gate"))
    yield client
    client.delete(watch_key("gate"))


@pytest.mark.parametrize(("persona", "allowed"), [("admin", True), ("operator", True), ("anonymous", False)])
def test_only_roles_may_watch(persona_client, redis_layer, live_keys, persona, allowed):
    assert connects("/ws/live/gate/", headers_for(persona_client(persona))) is allowed


def test_an_unknown_or_disabled_camera_is_refused(operator_client, redis_layer, live_keys, camera):
    camera.enabled = False
    camera.save()

    assert not connects("/ws/live/gate/", headers_for(operator_client))
    assert not connects("/ws/live/nope/", headers_for(operator_client))


async def joined_viewer(live_keys, operator_client, *, path="/ws/live/gate/", key="gate"):
    """Connect a viewer as the relay sees it: returns the communicator and the channel name
    it announced on the join channel of the relay `key` (the camera's main or sub-stream)."""
    listener = redis.asyncio.Redis.from_url(settings.REDIS_URL).pubsub()
    await listener.subscribe(join_channel(key, redis_db(live_keys)))
    communicator = WebsocketCommunicator(application, path, headers=headers_for(operator_client))
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected

    async def announced():
        while (message := await listener.get_message(timeout=TIMEOUT)) is None or message["type"] != "message":
            pass
        return message["data"].decode()

    name = await asyncio.wait_for(announced(), TIMEOUT)
    await listener.aclose()
    return communicator, name


def test_the_first_viewer_plays_the_group_from_its_init_and_a_keyframe(operator_client, redis_layer, live_keys):
    async def scenario():
        communicator, name = await joined_viewer(live_keys, operator_client)
        layer = get_channel_layer()
        await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": b"P0", "keyframe": False})
        init = {"type": "live.init", "codec": "avc1.64001F", "epoch": 1700000000.25, "data": b"INIT-SEGMENT"}
        await layer.group_send(live_group("gate"), init)
        for data, keyframe in ((b"P1", False), (b"K1", True), (b"P2", False)):
            await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": data, "keyframe": keyframe})
        # A catch-up meant for this viewer that comes after the group's init is not sent twice.
        catchup = {"type": "live.catchup", "codec": "avc1.64001F", "epoch": 1.0, "init": b"OTHER", "media": b"K0"}
        await layer.send(name, catchup)
        boxes = detections_payload(
            captured_at=1700000001.5,
            objects=[{"label": "person", "confidence": 0.9, "box": [0.1, 0.2, 0.3, 0.4], "track_id": 3}],
            inference_ms=12.5,
            width=640,
            height=360,
        )
        await layer.group_send(detections_group("gate"), {"type": "live.detections", "payload": boxes})
        received = [await communicator.receive_from(timeout=TIMEOUT) for _ in range(5)]
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return name, received, nothing_more

    name, received, nothing_more = async_to_sync(scenario)()

    assert name.startswith("specific.")  # the channel name a relay can send a catch-up to
    assert json.loads(received[0]) == {"type": "init", "codec": "avc1.64001F", "epoch": 1700000000.25}
    assert received[1:4] == [b"INIT-SEGMENT", b"K1", b"P2"] and nothing_more
    overlay = json.loads(received[4])
    assert overlay["type"] == "detections" and overlay["captured_at"] == 1700000001.5
    assert overlay["objects"][0]["label"] == "person" and overlay["objects"][0]["box"] == [0.1, 0.2, 0.3, 0.4]
    assert live_keys.exists(watch_key("gate"))  # the capture process sees someone watching


def test_a_late_viewer_gets_its_catch_up_then_the_group(operator_client, redis_layer, live_keys):
    async def scenario():
        communicator, name = await joined_viewer(live_keys, operator_client)
        layer = get_channel_layer()
        await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": b"P1", "keyframe": False})
        catchup = {"type": "live.catchup", "codec": "avc1.64001F", "epoch": 1700000000.25}
        await layer.send(name, {**catchup, "init": b"INIT-SEGMENT", "media": b"K0P0P1"})
        await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": b"P2", "keyframe": False})
        received = [await communicator.receive_from(timeout=TIMEOUT) for _ in range(4)]
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return received, nothing_more

    received, nothing_more = async_to_sync(scenario)()

    assert json.loads(received[0]) == {"type": "init", "codec": "avc1.64001F", "epoch": 1700000000.25}
    # P1 came before the catch-up (which holds it): dropped; P2 follows the GOP at once.
    assert received[1:] == [b"INIT-SEGMENT", b"K0P0P1", b"P2"] and nothing_more


def test_a_grid_tile_plays_the_sub_stream_with_the_cameras_boxes(operator_client, redis_layer, live_keys):
    """?stream=sub: the sub-stream relay's video (not the main's), and the camera's boxes."""

    async def scenario():
        communicator, name = await joined_viewer(
            live_keys, operator_client, path="/ws/live/gate/?stream=sub", key="gate.sub"
        )
        layer = get_channel_layer()
        init = {"type": "live.init", "codec": "avc1.42E01E", "epoch": 1700000000.0, "data": b"SUB-INIT"}
        await layer.group_send(live_group("gate"), {**init, "codec": "avc1.640033", "data": b"MAIN-INIT"})
        await layer.group_send(live_group("gate.sub"), init)
        await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": b"MAIN-K", "keyframe": True})
        await layer.group_send(live_group("gate.sub"), {"type": "live.fragment", "data": b"SUB-K", "keyframe": True})
        boxes = detections_payload(captured_at=1.0, objects=[], inference_ms=None, width=640, height=360)
        await layer.group_send(detections_group("gate"), {"type": "live.detections", "payload": boxes})
        received = [await communicator.receive_from(timeout=TIMEOUT) for _ in range(4)]
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return received, nothing_more

    received, nothing_more = async_to_sync(scenario)()

    assert json.loads(received[0])["codec"] == "avc1.42E01E"
    assert received[1:3] == [b"SUB-INIT", b"SUB-K"] and nothing_more
    assert json.loads(received[3])["type"] == "detections"
    assert live_keys.exists(watch_key("gate.sub")) and not live_keys.exists(watch_key("gate"))
    live_keys.delete(watch_key("gate.sub"))


def test_a_camera_without_a_sub_stream_plays_its_main_stream_for_sub(operator_client, redis_layer, live_keys, camera):
    camera.detect_url = ""
    camera.save()

    async def scenario():
        communicator, _ = await joined_viewer(live_keys, operator_client, path="/ws/live/gate/?stream=sub", key="gate")
        await communicator.disconnect()

    async_to_sync(scenario)()
    assert live_keys.exists(watch_key("gate"))
