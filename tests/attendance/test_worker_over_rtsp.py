"""The attendance worker's loop on a real RTSP stream, with real photos: he is enrolled from
one photo; a clip made from two other photos of him shows him walk in, stay and leave, a
stranger (another man) walk through, and him come back. Presence, the absence alert and its
resolution follow on the real clock; the stranger stays unknown."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from attendance.models import AlertLog, AttendanceEvent, EventKind, Presence, PresenceState
from pipeline.detect_stream import DroppingQueue, FrameSampler
from pipeline.processes import recognition as worker
from tests.attendance.faces import (
    OTHER_PERSON,
    SAME_PERSON,
    head_and_shoulders,
    make_face_clip,
    on_canvas,
    photo,
    real_photo,
)

pytestmark = pytest.mark.django_db(transaction=True)

FPS = 10


def walk_in(person, seconds: float, *, stay: float = 0.0) -> list[np.ndarray]:
    """`person` walks in from the left for `seconds`, then stands still for `stay`."""
    frames = int(seconds * FPS)
    walking = [on_canvas(person, at=(int(20 + 300 * i / frames), 80), scale=1.0) for i in range(frames)]
    return walking + [walking[-1]] * int(stay * FPS)


def framed(backend, filename: str) -> np.ndarray:
    image = real_photo(filename)
    (face,) = backend.detect(image)
    return head_and_shoulders(image, face.box)


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
    from cameras.probe import open_stream

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
    barack = employee_factory("Barack Obama")
    grace = employee_factory("Grace Hopper")
    enrol_photo(barack, real_photo(SAME_PERSON[0]))
    enrol_photo(grace, photo("hopper"))
    empty = [on_canvas(None)] * (2 * FPS)
    clip = make_face_clip(
        tmp_path / "walk.mp4",
        empty
        + walk_in(framed(face_backend, SAME_PERSON[2]), 2, stay=2)  # another photo of him than the enrolled one
        + [on_canvas(None)] * FPS
        + walk_in(framed(face_backend, OTHER_PERSON), 3)  # a stranger walks through while he is away
        + [on_canvas(None)] * (3 * FPS)
        + walk_in(framed(face_backend, SAME_PERSON[1]), 2, stay=1)  # he comes back, a third photo
        + empty,
        fps=FPS,
    )
    server = make_rtsp_server(clip=clip)
    monkeypatch.setattr("attendance.recognition.backend.face_backend_from_settings", lambda: face_backend)
    stage = worker.build_stage(camera_ids=[camera.pk], options={"absence_seconds": 2})
    frames = DroppingQueue(maxsize=8)
    sampler = FrameSampler(camera.pk, fps=5, sink=frames)
    stop = threading.Event()
    reader = threading.Thread(target=read_stream, args=(server.url("/stream"), sampler, stop), daemon=True)
    loop = threading.Thread(target=worker.run, args=(stage, QueueAdapter(frames), stop), daemon=True)
    reader.start()
    loop.start()
    try:
        assert wait_for(lambda: Presence.objects.filter(employee=barack, state=PresenceState.AVAILABLE).exists(), 20)
        assert wait_for(lambda: AlertLog.objects.filter(employee=barack, resolved__isnull=True).exists(), 20)
        assert wait_for(lambda: AttendanceEvent.objects.filter(kind=EventKind.UNKNOWN).exists(), 20)
        assert wait_for(lambda: AlertLog.objects.filter(employee=barack, resolved__isnull=False).exists(), 20)
    finally:
        stop.set()
        loop.join(10)
        reader.join(10)
    assert AlertLog.objects.count() == 1
    # The stranger was never taken for either employee; his sighting keeps a snapshot.
    assert not Presence.objects.filter(employee=grace).exclude(state=PresenceState.OFF).exists()
    assert not AttendanceEvent.objects.filter(employee=grace).exists()
    unknown = AttendanceEvent.objects.filter(kind=EventKind.UNKNOWN).first()
    assert unknown.employee_id is None and unknown.snapshot
    assert stage.frames > 20 and stage.embedded > 5
