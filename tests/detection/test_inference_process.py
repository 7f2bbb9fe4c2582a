"""pipeline.processes.inference.main as a real spawned process on the test database and Redis: frames
in through a multiprocessing queue, ObjectEvents in the database, overlay messages on the
camera's live group, a clean stop."""

from __future__ import annotations

import asyncio
import multiprocessing
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from cameras.frames import Frame
from detection.models import ObjectEvent
from detection.status import detector_statuses, status_key
from pipeline.live.channel import detections_group
from pipeline.processes import inference

pytestmark = pytest.mark.django_db(transaction=True)


def child_database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def wait_for(condition, timeout, what, process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.is_alive(), f"the inference process died (exit code {process.exitcode})"
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_frames_in_events_and_overlays_out(camera, bus_photo, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", child_database_url())  # read by the spawned child
    monkeypatch.delenv("DATABASE_TEST_NAME", raising=False)
    monkeypatch.setenv("DETECTOR_THREADS", "1")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(detections_group(camera.slug), channel)

    ctx = multiprocessing.get_context("spawn")
    frames, stop = ctx.Queue(maxsize=8), ctx.Event()
    process = ctx.Process(target=inference.main, args=(frames, stop, [camera.pk]), daemon=True)
    process.start()
    try:
        start = timezone.now()
        # A camera at 5 fps, until the people are events: a new box becomes a track (and an
        # event) on its second sighting, and the frame after a sighting is always looked at.
        deadline = time.monotonic() + 120
        while ObjectEvent.objects.filter(label="person").count() < 3:
            assert process.is_alive() and time.monotonic() < deadline, "no three person events within 120 s"
            frames.put(Frame(camera.pk, timezone.now(), bus_photo, 810, 1080), timeout=10)
            time.sleep(0.2)
        assert ObjectEvent.objects.filter(label="person").count() == 3

        async def overlay():
            while True:
                message = await layer.receive(channel)
                # The first sighting's boxes come without ids (the tracker confirms a track on
                # its second): wait for a frame whose people all have one.
                objects = message["payload"]["objects"] if message["type"] == "live.detections" else []
                real = [o for o in objects if o["label"] == "person" and not o.get("candidate")]
                if len(real) >= 3 and all(isinstance(o["track_id"], int) for o in real):
                    return message["payload"]

        async def overlay_within(seconds):
            # A receive that never ends would hold pytest's exit (its loop runs in a thread).
            return await asyncio.wait_for(overlay(), seconds)

        payload = async_to_sync(overlay_within)(30)
        # Real objects; a fourth, weak person at the photo's edge may come along as a candidate.
        people = [o for o in payload["objects"] if o["label"] == "person" and not o.get("candidate")]
        assert len(people) == 3 and all(isinstance(o["track_id"], int) for o in people)
        assert payload["captured_at"] >= start.timestamp() - 1
        assert (payload["width"], payload["height"]) == (810, 1080)

        # The process says it is online, with its figures (detection.status).
        import redis
        from django.conf import settings

        client = redis.Redis.from_url(settings.REDIS_URL)
        wait_for(
            lambda: any(st["frames_detected"] >= 1 for st in detector_statuses(client)),
            30,
            "a detector status",
            process,
        )
        [status] = [st for st in detector_statuses(client) if st["pid"] == process.pid]
        assert status["cameras"] == [camera.slug] and status["inference_ms"] > 0
        assert "coco-centernet-mbv3-int8.onnx on cpu" in status["detector"]  # the CPU default
        assert 0 < client.ttl(status_key(status["host"], status["pid"])) <= 15  # a dead process vanishes
    finally:
        stop.set()
        process.join(60)
        if process.is_alive():
            process.kill()
    assert process.exitcode == 0
    client.delete(status_key(status["host"], status["pid"]))
    # Stopping closes what was open.
    assert not ObjectEvent.objects.filter(end__isnull=True).exists()


def test_a_model_that_cannot_load_ends_the_process_with_one_line(camera, monkeypatch, capfd):
    monkeypatch.setenv("DATABASE_URL", child_database_url())
    monkeypatch.delenv("DATABASE_TEST_NAME", raising=False)
    monkeypatch.setenv("DETECTOR_MODEL", "yolov8n.onnx")  # not in MODELS_DIR
    ctx = multiprocessing.get_context("spawn")
    frames, stop = ctx.Queue(maxsize=2), ctx.Event()
    process = ctx.Process(target=inference.main, args=(frames, stop, [camera.pk]), daemon=True)
    process.start()
    process.join(120)
    if process.is_alive():
        process.kill()
    assert process.exitcode == 2
    errors = [line for line in capfd.readouterr().err.splitlines() if "ERROR" in line or "Traceback" in line]
    assert len(errors) == 1 and "'yolov8n.onnx' not found: put it in" in errors[0], errors


@pytest.mark.parametrize("backend", ["onnx", "ultralytics"])
def test_the_settings_make_a_working_detector_of_either_backend(settings, backend, bus_photo):
    from detection.backends import create_detector
    from pipeline.processes.inference import detector_options_from_settings
    from tests.detection.tiny_yolo import WEIGHTS

    settings.DETECTOR_BACKEND = backend
    settings.DETECTOR_MODEL = "" if backend == "onnx" else str(WEIGHTS)
    settings.DETECTOR_DEVICE = "cpu"
    name, options = detector_options_from_settings(settings)
    detector = create_detector(name, **options)
    detector.load()
    assert detector.name == backend
    [found] = detector.detect([bus_photo])
    assert all(0 <= v <= 1 for d in found for v in d.box)
    if backend == "onnx":
        assert sum(d.label == "person" and d.confidence >= 0.5 for d in found) == 3
