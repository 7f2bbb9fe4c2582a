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
