"""Fixtures of the attendance tests: one real face backend per run (loading SFace takes a
moment), employees, and a clock the tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest


@pytest.fixture(scope="session")
def face_backend():
    from detection.backends.face import get_face_backend

    return get_face_backend("opencv-sface")


@pytest.fixture
def employee_factory(db):
    from attendance.models import Employee

    counter = iter(range(1, 10_000))

    def make(name: str, **fields):
        return Employee.objects.create(code=f"E{next(counter)}", name=name, **fields)

    return make


class ManualClock:
    """now() returns what the test set; advance() moves it."""

    def __init__(self, start: datetime):
        self.now_value = start

    def __call__(self) -> datetime:
        return self.now_value

    def advance(self, seconds: float) -> datetime:
        self.now_value += timedelta(seconds=seconds)
        return self.now_value


@pytest.fixture
def clock():
    from django.utils import timezone

    return ManualClock(timezone.now().replace(microsecond=0))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Photos and snapshots go to this test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def rq_default_queue(db):
    """The real "default" RQ queue (in this run's Redis database), emptied before and after."""
    import django_rq

    queue = django_rq.get_queue("default")
    queue.empty()
    yield queue
    queue.empty()


@pytest.fixture
def run_jobs(rq_default_queue, face_backend, monkeypatch):
    """run_jobs() -> runs every queued job in this process (a burst of RQ's SimpleWorker),
    with the session's face backend instead of loading a new one per job."""
    from rq import SimpleWorker

    monkeypatch.setattr("attendance.recognition.backend.face_backend_from_settings", lambda: face_backend)

    def run() -> int:
        count = len(rq_default_queue)
        SimpleWorker([rq_default_queue], connection=rq_default_queue.connection).work(burst=True)
        return count

    return run


@pytest.fixture
def enrol_photo(face_backend):
    """enrol_photo(employee, image) -> a FaceTemplate made as the enrolment job makes it."""
    import numpy as np

    from attendance.enrolment import embed_single_face
    from attendance.models import FaceTemplate

    def enrol(employee, image):
        vector, quality = embed_single_face(face_backend, image)
        return FaceTemplate.objects.create(
            employee=employee,
            photo=f"faces/{employee.code}.jpg",
            embedding=np.asarray(vector, np.float32).tobytes(),
            model_name=face_backend.model_name,
            dimension=face_backend.dimension,
            quality=quality,
        )

    return enrol


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
