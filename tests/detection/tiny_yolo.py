"""The tiny YOLOv8n trained on synthetic person/car shapes (scripts/train_tiny_yolo.py), and
recordings of synthetic clips, for tests of the ultralytics backend and offline analysis.

Test modules take the fixtures with `from tests.detection.tiny_yolo import *` (`__all__` is
the fixtures only; helpers are imported by name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from tests.detection.shapes import Thing, make_scene_clip

__all__ = ["media_dirs", "recorded_scene", "scene_clip", "tiny_detector", "tiny_weights"]

WEIGHTS = Path(__file__).resolve().parent / "weights" / "tiny-shapes-yolov8n.pt"
# A moment in the past: analysis refuses ranges in the future.
T0 = datetime(2026, 5, 12, 10, 0, 0, tzinfo=UTC)


def box_iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def normalised(thing: Thing, width: int, height: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = thing.box
    return x1 / width, y1 / height, x2 / width, y2 / height


@pytest.fixture(scope="session")
def tiny_weights() -> Path:
    assert WEIGHTS.exists(), f"{WEIGHTS} is missing: run scripts/train_tiny_yolo.py"
    return WEIGHTS


@pytest.fixture
def tiny_detector(tiny_weights):
    """make(**options) -> a loaded ultralytics detector of the tiny model."""
    from detection.backends import create_detector

    def make(**options):
        options = {"confidence": 0.5, "device": "cpu", **options}
        detector = create_detector("ultralytics", model=str(tiny_weights), **options)
        detector.load()
        return detector

    return make


@pytest.fixture(scope="session")
def scene_clip(tmp_path_factory) -> Path:
    """8 s, 10 fps, 320x240, a keyframe every second: a person walks right across from
    0.5 s to 3.5 s, a car drives left across from 4.5 s to 7.5 s (tests.detection.shapes)."""
    return make_scene_clip(tmp_path_factory.mktemp("scenes") / "scene.mp4", seconds=8, fps=10, gop=10)


def record(clip: Path, camera, root: Path, *, start: datetime = T0, segment_seconds: float = 3.0) -> list:
    """Remux `clip` into the camera's recordings as the recorder does (SegmentWriter, one
    Segment row per closed file); returns the rows."""
    from recordings.segments import SegmentWriter
    from recordings.services import record_segment

    rows = []
    writer = SegmentWriter(
        root=root,
        camera_slug=camera.slug,
        segment_seconds=segment_seconds,
        on_closed=lambda closed: rows.append(record_segment(camera_id=camera.pk, closed=closed)),
    )
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        writer.begin(video, wall_clock=start)
        for packet in container.demux(video):
            if packet.dts is not None:
                writer.write(packet)
        writer.close()
    return rows


@pytest.fixture
def media_dirs(settings, tmp_path):
    """RECORDINGS_DIR and MEDIA_ROOT of the test's own."""
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECORDINGS_DIR.mkdir()
    settings.MEDIA_ROOT.mkdir()
    return settings


@pytest.fixture
def recorded_scene(camera, media_dirs, scene_clip):
    """The scene clip recorded for `camera` from T0: three segments (3 s, 3 s, 2 s)."""
    return record(scene_clip, camera, media_dirs.RECORDINGS_DIR)
