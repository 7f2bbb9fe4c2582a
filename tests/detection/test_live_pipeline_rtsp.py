"""Live detection end to end through `manage.py runworkers`: a real RTSP camera showing
people (the demo clip), its capture process feeding frames to the detector stage that the
supervisor starts for it, the default detector, ObjectEvents in the database and overlay
messages at a viewer's WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from ainvr.asgi import application
from cameras.demo import make_demo_clip
from cameras.models import Camera
from cameras.services import save_camera
from detection.models import ObjectEvent
from tests.pipeline.live.sockets import TIMEOUT, headers_for
from tests.pipeline.test_runworkers_processes import start_runworkers, stop

pytestmark = pytest.mark.django_db(transaction=True)


def real_person(o: dict) -> bool:
    return o["label"] == "person" and not o.get("candidate")


def test_people_on_a_camera_become_events_and_boxes_on_the_live_page(
    make_rtsp_server, operator_client, monkeypatch, tmp_path
):
    clip = make_demo_clip(tmp_path / "people.mp4", seconds=12, fps=10, width=640, height=360)
    server = make_rtsp_server(clip=clip, width=640, height=360, fps=10)
    camera = save_camera(
        Camera(name="Lobby", slug="lobby", stream_url=server.url(), detect_fps=2.0, ai_classes=["person"])
    )
    monkeypatch.setenv("DETECTOR_THREADS", "1")
    workers = None
    seen = []

    async def watch(deadline_s):
        viewer = WebsocketCommunicator(application, "/ws/live/lobby/", headers=headers_for(operator_client))
        connected, _ = await viewer.connect(timeout=TIMEOUT)
        assert connected
        nonlocal workers
        workers = start_runworkers(tmp_path / "data", tmp_path / "runworkers.log")
        deadline = time.monotonic() + deadline_s
        try:
            while time.monotonic() < deadline:
                assert workers.poll() is None, (tmp_path / "runworkers.log").read_text()[-3000:]
                # receive_nothing first: a receive_output that times out cancels the consumer.
                if await viewer.receive_nothing(timeout=1):
                    continue
                message = await viewer.receive_output(timeout=TIMEOUT)
                seen.append(message.get("text", "")[:80] or "bytes")
                if message.get("text"):
                    text = json.loads(message["text"])
                    if text["type"] == "detections" and any(real_person(o) for o in text["objects"]):
                        return text
            raise AssertionError(
                f"no person box at the viewer within {deadline_s} s; it got {seen[:3]} ... {seen[-3:]}"
            )
        finally:
            # The consumer may have ended already; the assertion above says why.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await viewer.disconnect()

    try:
        overlay = async_to_sync(watch)(120)
        # A real object: its track's median score reached the model's threshold (no candidate flag).
        person = next(o for o in overlay["objects"] if real_person(o))
        assert person["track_id"] is not None
        x1, y1, x2, y2 = person["box"]
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
        assert (overlay["width"], overlay["height"]) == (640, 360)
        assert overlay["captured_at"] > time.time() - 120
        deadline = time.monotonic() + 60
        while not ObjectEvent.objects.filter(camera=camera, label="person").exists():
            assert time.monotonic() < deadline, "no person event in the database"
            time.sleep(0.2)
    finally:
        code = stop(workers) if workers is not None else None
    assert code == 0, (tmp_path / "runworkers.log").read_text()[-3000:]
    assert "stage detector-cpu: started" in (tmp_path / "runworkers.log").read_text()
    event = ObjectEvent.objects.filter(camera=camera, label="person").first()
    assert event.end is not None and event.end >= event.start  # closed when the process stopped
    assert event.snapshot.name.endswith(".jpg") and event.track_id is not None
