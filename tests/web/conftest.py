"""Fixtures for the web pages: recordings on disk with their rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recordings.models import Segment
from tests.media import make_clip

# A moment far from midnight in Europe/Paris (the tests' time zone), so the day is unambiguous.
T0 = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def recordings_dir(settings, tmp_path):
    root = tmp_path / "recordings"
    root.mkdir()
    settings.RECORDINGS_DIR = root
    settings.RECORDINGS_ACCEL_REDIRECT = None
    return root


@pytest.fixture
def media_dir(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.MEDIA_ACCEL_REDIRECT = None
    return root


@pytest.fixture
def add_segment(recordings_dir):
    """add_segment(camera, start, seconds=4, gap=0) -> a Segment row with a real fragmented
    MP4 (10 fps, a keyframe each second) as the recorder writes them."""

    def make(camera, start: datetime, seconds: float = 4.0) -> Segment:
        rel = f"{camera.slug}/{start:%Y-%m-%d}/{start:%H-%M-%S}.mp4"
        path = recordings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        make_clip(path, seconds=seconds, fps=10, gop=10, fragmented=True)
        return Segment.objects.create(
            camera=camera,
            start=start,
            end=start + timedelta(seconds=seconds),
            duration=seconds,
            path=rel,
            size_bytes=path.stat().st_size,
            codec="h264",
            width=320,
            height=240,
        )

    return make
