"""Fixtures for the recordings tests: a RECORDINGS_DIR of their own, real fragmented MP4
files made with PyAV, segments (file and row), and a disk whose free space grows as
files go."""

from __future__ import annotations

import shutil
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

FRAGMENTED = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DiskUsage = namedtuple("DiskUsage", "total used free")


def write_fragmented_mp4(
    path: Path,
    *,
    frames: int = 20,
    fps: int = 10,
    start: datetime | None = None,
    noise: bool = False,
    width: int = 320,
    height: int = 240,
) -> Path:
    """Encode a fragmented MP4 as the recorder writes them: libx264, a keyframe every 10
    frames, and the exact start in the `comment` metadata when `start` is given. `noise`
    makes every frame random, so frames are large and of even size."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="mp4", options=FRAGMENTED) as out:
        if start is not None:
            out.metadata["comment"] = start.astimezone(UTC).isoformat()
        stream = out.add_stream("libx264", rate=fps, options={"g": "10", "keyint_min": "10", "sc_threshold": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            if noise:
                image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            else:
                image = np.full((height, width, 3), (i * 20) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def relative_path(slug: str, start: datetime) -> str:
    """Where the recorder puts a segment starting at `start`."""
    moment = start.astimezone(UTC)
    return f"{slug}/{moment:%Y-%m-%d}/{moment:%H-%M-%S}.mp4"


@pytest.fixture(autouse=True)
def recordings_dir(settings, tmp_path) -> Path:
    root = tmp_path / "recordings"
    root.mkdir()
    settings.RECORDINGS_DIR = root
    return root


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """A two-second fragmented MP4, encoded once; segments are copies of it."""
    return write_fragmented_mp4(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture
def yard(db):
    """A second camera, keeping its recordings longer than the gate's 7 days."""
    from cameras.models import Camera

    return Camera.objects.create(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11:554/main", retention_days=30)


@pytest.fixture
def storage(db):
    """The storage settings with neither cap: tests turn on the one they exercise."""
    from recordings.models import StorageSettings

    settings_row = StorageSettings(max_total_gb=None, min_free_gb=None)
    settings_row.save()
    return settings_row


@pytest.fixture
def make_segment(recordings_dir, clip, storage):
    """make_segment(camera, start, seconds=10, size=None) -> a Segment with its file.

    The file is a copy of `clip`, or `size` bytes when given."""
    from recordings.services import create_segment_row

    def make(camera, start: datetime, *, seconds: float = 10, size: int | None = None):
        relative = relative_path(camera.slug, start)
        file = recordings_dir / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        if size is None:
            shutil.copy(clip, file)
        else:
            file.write_bytes(b"\0" * size)
        return create_segment_row(
            camera=camera,
            start=start,
            end=start + timedelta(seconds=seconds),
            path=relative,
            size_bytes=file.stat().st_size,
            codec="h264",
            width=320,
            height=240,
        )

    return make


class FakeDisk:
    """A `shutil.disk_usage` stand-in: `free` bytes, plus the size of every recording that
    was under `root` when it was made and has since been deleted."""

    def __init__(self, root: Path, free: int):
        self.root = root
        self.free = free
        self.files = {file: file.stat().st_size for file in root.rglob("*.mp4")}
        self.calls: list[Path] = []

    def __call__(self, path) -> DiskUsage:
        self.calls.append(Path(path))
        freed = sum(size for file, size in self.files.items() if not file.exists())
        free = self.free + freed
        return DiskUsage(total=10 * free + 1, used=9 * free + 1, free=free)


@pytest.fixture
def fake_disk(recordings_dir):
    """fake_disk(free) -> a FakeDisk over the recordings made so far."""
    return lambda free: FakeDisk(recordings_dir, free)
