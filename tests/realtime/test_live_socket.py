"""/ws/live/<camera>/: refused without a role; a viewer gets the init segment, then
fragments from a keyframe on, and keeps the camera's "watching" key alive."""

from __future__ import annotations

import json

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from ainvr.asgi import application
from cameras.live import detections_payload, encode_init, init_key, live_group, watch_key
from tests.realtime.sockets import TIMEOUT, connects, headers_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_keys(camera):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(init_key("gate"), watch_key("gate"))
    yield client
    client.delete(init_key("gate"), watch_key("gate"))


@pytest.mark.parametrize(("persona", "allowed"), [("admin", True), ("operator", True), ("anonymous", False)])
def test_only_roles_may_watch(persona_client, redis_layer, live_keys, persona, allowed):
    assert connects("/ws/live/gate/", headers_for(persona_client(persona))) is allowed


def test_an_unknown_or_disabled_camera_is_refused(operator_client, redis_layer, live_keys, camera):
    camera.enabled = False
    camera.save()

    assert not connects("/ws/live/gate/", headers_for(operator_client))
    assert not connects("/ws/live/nope/", headers_for(operator_client))


def test_a_late_viewer_gets_the_init_then_media_from_a_keyframe(operator_client, redis_layer, live_keys):
    live_keys.set(init_key("gate"), encode_init("avc1.64001F", 1700000000.25, b"INIT-SEGMENT"))

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/live/gate/", headers=headers_for(operator_client))
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        hello = json.loads(await communicator.receive_from(timeout=TIMEOUT))
        init = await communicator.receive_from(timeout=TIMEOUT)
        layer = get_channel_layer()
        for data, keyframe in ((b"P1", False), (b"K1", True), (b"P2", False)):
            await layer.group_send(live_group("gate"), {"type": "live.fragment", "data": data, "keyframe": keyframe})
        boxes = detections_payload(
            captured_at=1700000001.5,
            objects=[{"label": "person", "confidence": 0.9, "box": [0.1, 0.2, 0.3, 0.4], "track_id": 3}],
            inference_ms=12.5,
            width=640,
            height=360,
        )
        await layer.group_send(live_group("gate"), {"type": "live.detections", "payload": boxes})
        received = [await communicator.receive_from(timeout=TIMEOUT) for _ in range(3)]
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return hello, init, received, nothing_more

    hello, init, received, nothing_more = async_to_sync(scenario)()

    assert hello == {"type": "init", "codec": "avc1.64001F", "epoch": 1700000000.25}
    assert init == b"INIT-SEGMENT"
    assert received[:2] == [b"K1", b"P2"] and nothing_more
    overlay = json.loads(received[2])
    assert overlay["type"] == "detections" and overlay["captured_at"] == 1700000001.5
    assert overlay["objects"][0]["label"] == "person" and overlay["objects"][0]["box"] == [0.1, 0.2, 0.3, 0.4]
    assert live_keys.exists(watch_key("gate"))  # the capture process sees someone watching
