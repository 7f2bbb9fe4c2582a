"""Absence alerts and their resolution reach a dashboard WebSocket client, after commit,
in the contract's shape (contracts.md: alert.created / alert.resolved on the alerts group)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from attendance.models import AlertLog
from attendance.recognition.backend import roster_matcher_for
from attendance.recognition.stage import RecognitionConfig, RecognitionStage
from tests.attendance.faces import photo
from tests.attendance.stage_support import feed
from tests.pipeline.live.sockets import TIMEOUT, headers_for

pytestmark = pytest.mark.django_db(transaction=True)


def events_during(headers, change, count: int) -> list[dict]:
    from ainvr.asgi import application

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        try:
            await database_sync_to_async(change)()
            received = []
            while len(received) < count:
                message = await communicator.receive_json_from(timeout=TIMEOUT)
                if message["event"].startswith("alert."):
                    received.append(message)
            return received
        finally:
            await communicator.disconnect()
            layer = get_channel_layer()
            if hasattr(layer, "flush"):
                await layer.flush()

    return async_to_sync(scenario)()


def test_absence_and_return_are_pushed_live(
    in_memory_layer, admin_client, camera, employee_factory, enrol_photo, face_backend, clock
):
    grace = employee_factory("Grace Hopper")
    enrol_photo(grace, photo("hopper"))
    stage = RecognitionStage(
        backend=face_backend,
        matcher=roster_matcher_for(face_backend, threshold=0.4),
        config=RecognitionConfig(absence_seconds=3),
        clock=clock,
    )

    def leave_and_return():
        feed(stage, clock, camera.pk, photo("hopper"), seconds=1)
        feed(stage, clock, camera.pk, None, seconds=4)
        feed(stage, clock, camera.pk, photo("hopper"), seconds=1)
        stage.flush()

    created, resolved = events_during(headers_for(admin_client), leave_and_return, count=2)
    alert = AlertLog.objects.get()
    assert created["event"] == "alert.created" and resolved["event"] == "alert.resolved"
    assert created["payload"]["id"] == resolved["payload"]["id"] == alert.pk
    assert created["payload"]["employee"] == "Grace Hopper"
    assert created["payload"]["camera"] == camera.slug
    assert created["payload"]["kind"] == "absence" and created["payload"]["resolved"] is None
    assert created["payload"]["started"] == alert.started.isoformat()
    assert resolved["payload"]["resolved"] == alert.resolved.isoformat()
    assert "not seen for 3 s" in created["payload"]["message"]
    assert set(created["payload"]) == {"id", "kind", "employee", "camera", "started", "resolved", "message", "url"}
