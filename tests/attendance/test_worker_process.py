"""pipeline.processes.recognition.main as runworkers will start it: a spawned process fed Frame objects
through a multiprocessing queue, on the test database."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from django.db import connection
from django.utils import timezone

from attendance.models import Presence, PresenceState
from pipeline.processes import recognition
from pipeline.processes.recognition import EXIT_BACKEND_UNAVAILABLE
from tests.attendance.faces import photo
from tests.attendance.stage_support import frame_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def child_env(monkeypatch, tmp_path):
    """What a spawned child needs to open this test's database."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    else:
        url = f"sqlite:///{s['NAME']}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_TEST_NAME", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))


def test_the_spawned_worker_recognises_frames_from_its_queue(child_env, camera, employee_factory, enrol_photo):
    grace = employee_factory("Grace Hopper")
    enrol_photo(grace, photo("hopper"))
    context = multiprocessing.get_context("spawn")
    frames, stop = context.Queue(maxsize=4), context.Event()
    process = context.Process(target=recognition.main, args=(frames, stop, [camera.pk], {"absence_seconds": 120}))
    process.start()
    try:
        deadline = time.monotonic() + 90  # a loaded machine: start-up and model loading take seconds
        while time.monotonic() < deadline:
            if Presence.objects.filter(employee=grace, state=PresenceState.AVAILABLE).exists():
                break
            if frames.qsize() < 2:  # the worker may still be starting: do not pile frames up
                frames.put(frame_of(camera.pk, timezone.now(), photo("hopper")))
            time.sleep(0.2)
        else:
            pytest.fail("the worker never marked the employee present")
    finally:
        stop.set()
        process.join(30)
    assert process.exitcode == 0


def test_a_missing_face_backend_ends_the_worker_with_status_2(child_env, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_FACE_BACKEND", "insightface")
    context = multiprocessing.get_context("spawn")
    frames, stop = context.Queue(), context.Event()  # held here: the child unpickles them after start()
    process = context.Process(target=recognition.main, args=(frames, stop, None, None))
    process.start()
    process.join(60)
    assert process.exitcode == EXIT_BACKEND_UNAVAILABLE
