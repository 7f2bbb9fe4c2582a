"""The attendance worker's loop on a real RTSP stream: a face walks in, stays, leaves and
comes back; presence, the absence alert and its resolution follow, on the real clock."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from attendance.models import AlertLog, Presence, PresenceState
from attendance.recognition import worker
from cameras.frames import DroppingQueue, FrameSampler
from tests.attendance.faces import make_face_clip, on_canvas, photo

pytestmark = pytest.mark.django_db(transaction=True)

FPS = 10


def walk_in(face, seconds: float) -> list[np.ndarray]:
    frames = int(seconds * FPS)
    return [on_canvas(face, at=(int(20 + 200 * i / frames), 40), scale=0.6) for i in range(frames)]


class QueueAdapter:
    """worker.run() reads a multiprocessing-style queue (get(timeout)); the sampler offers
    to a DroppingQueue."""

    def __init__(self, source: DroppingQueue):
        self.source = source

    def get(self, timeout=None):
        import queue

        frame = self.source.take(timeout)
        if frame is None:
            raise queue.Empty
        return frame


def read_stream(url, sampler, stop):
    from cameras.capture import open_stream

    with open_stream(url, read_timeout=5) as container:
        video = container.streams.video[0]
        sampler.begin(video)
        for packet in container.demux(video):
            if stop.is_set():
                return
            sampler.feed(packet)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_walk_in_leave_and_return_over_rtsp(
    make_rtsp_server, tmp_path, camera, employee_factory, enrol_photo, face_backend, monkeypatch, settings
):
    grace = employee_factory("Grace Hopper")
    enrol_photo(grace, photo("hopper"))
    empty = [on_canvas(None)] * (2 * FPS)
    clip = make_face_clip(
        tmp_path / "walk.mp4",
        empty + walk_in(photo("hopper"), 3) + [on_canvas(None)] * (5 * FPS) + walk_in(photo("hopper"), 3) + empty,
        fps=FPS,
    )
    server = make_rtsp_server(clip=clip)
    monkeypatch.setattr("attendance.recognition.backend.face_backend_from_settings", lambda: face_backend)
    settings.ATTENDANCE_MATCH_THRESHOLD = 0.4
    stage = worker.build_stage(camera_ids=[camera.pk], options={"absence_seconds": 2})
    frames = DroppingQueue(maxsize=8)
    sampler = FrameSampler(camera.pk, fps=5, sink=frames)
    stop = threading.Event()
    reader = threading.Thread(target=read_stream, args=(server.url("/stream"), sampler, stop), daemon=True)
    loop = threading.Thread(target=worker.run, args=(stage, QueueAdapter(frames), stop), daemon=True)
    reader.start()
    loop.start()
    try:
        assert wait_for(lambda: Presence.objects.filter(employee=grace, state=PresenceState.AVAILABLE).exists(), 20)
        assert wait_for(lambda: AlertLog.objects.filter(employee=grace, resolved__isnull=True).exists(), 20)
        assert wait_for(lambda: AlertLog.objects.filter(employee=grace, resolved__isnull=False).exists(), 20)
    finally:
        stop.set()
        loop.join(10)
        reader.join(10)
    assert AlertLog.objects.count() == 1
    assert stage.frames > 20 and stage.embedded > 5
