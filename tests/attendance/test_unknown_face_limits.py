"""Unknown faces are rate-limited like other events: one event (and JPEG) per face track,
and at most ATTENDANCE_UNKNOWN_FACES_MAX per camera in any window. Before, a camera with
attendance on and nobody enrolled wrote ~600 events and JPEGs an hour (one every 5 s per
track); the simulated hour below wrote 840."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest

from attendance.models import AttendanceEvent, EventKind
from attendance.recognition.matcher import Match
from attendance.recognition.stage import RecognitionConfig, RecognitionStage
from cameras.frames import Frame

IMAGE = np.full((480, 640, 3), 128, np.uint8)


@dataclass(frozen=True)
class Face:
    box: tuple


class Scene:
    """Who is in front of the camera: a face detector that sees the boxes it is given, a
    roster with nobody enrolled (every face unknown) and gates that pass every face."""

    model_name, dimension = "fake", 4

    def __init__(self):
        self.boxes: list[tuple] = []

    def detect(self, image):
        return [Face(box) for box in self.boxes]

    def embed_many(self, image, faces):
        return np.ones((len(faces), self.dimension), np.float32)

    def match(self, vectors):
        return [Match(employee_id=None, similarity=0.1) for _ in vectors]

    def check(self, image, box):
        return None, 1.0


STANDING = (40, 40, 140, 160)  # someone who stays in view the whole hour
PASSING = (400, 200, 500, 320)  # a passer-by every minute, in view for 10 s


def simulate_hour(stage, scene, clock, camera_id: int, *, fps: float = 1.0) -> None:
    for second in range(3600):
        scene.boxes = [STANDING] + ([PASSING] if second % 60 < 10 else [])
        stage.process(Frame(camera_id, clock(), IMAGE, 640, 480))
        stage.tick()
        clock.advance(1 / fps)


@pytest.fixture
def scene():
    return Scene()


def make_stage(scene, clock, **config):
    config = RecognitionConfig(gates=scene, sighting_seconds=5, check_seconds=60, **config)
    return RecognitionStage(backend=scene, matcher=scene, config=config, clock=clock)


def unknown_events(camera_id):
    return AttendanceEvent.objects.filter(kind=EventKind.UNKNOWN, camera_id=camera_id)


def test_an_hour_of_strangers_writes_a_bounded_number_of_events(scene, clock, camera, media_root):
    stage = make_stage(scene, clock, unknown_max=10, unknown_window_seconds=600)
    simulate_hour(stage, scene, clock, camera.pk)
    events = list(unknown_events(camera.pk).order_by("time"))
    # 61 tracks (one standing, 60 passing), at most 10 per 10 minutes: 60.
    assert len(events) == 60
    assert all(event.snapshot for event in events)
    times = [event.time for event in events]
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t - start < timedelta(seconds=600)) <= 10


def test_one_event_per_stranger_however_long_they_stay(scene, clock, camera, media_root):
    stage = make_stage(scene, clock, unknown_max=100, unknown_window_seconds=600)
    scene.boxes = [STANDING]
    for _ in range(1800):
        stage.process(Frame(camera.pk, clock(), IMAGE, 640, 480))
        clock.advance(1)
    assert unknown_events(camera.pk).count() == 1


def test_the_limit_is_per_camera(scene, clock, camera, media_root):
    from cameras.models import Camera
    from cameras.services import save_camera

    other = save_camera(Camera(name="Back door", slug="back", stream_url="rtsp://192.0.2.11/main"))
    stage = make_stage(scene, clock, unknown_max=2, unknown_window_seconds=600)
    for box in [(10 * i, 10, 10 * i + 8, 20) for i in range(5)]:  # five strangers, one after another
        scene.boxes = [box]
        for camera_id in (camera.pk, other.pk):
            for _ in range(4):
                stage.process(Frame(camera_id, clock(), IMAGE, 640, 480))
            clock.advance(0.5)
        clock.advance(5)  # each track expires before the next stranger comes
    assert unknown_events(camera.pk).count() == 2 and unknown_events(other.pk).count() == 2


def test_none_at_all_when_the_limit_is_zero(scene, clock, camera, media_root):
    stage = make_stage(scene, clock, unknown_max=0, unknown_window_seconds=600)
    scene.boxes = [STANDING]
    for _ in range(10):
        stage.process(Frame(camera.pk, clock(), IMAGE, 640, 480))
        clock.advance(1)
    assert unknown_events(camera.pk).count() == 0


def test_the_limits_come_from_the_settings(settings):
    settings.ATTENDANCE_UNKNOWN_FACES_MAX = 3
    settings.ATTENDANCE_UNKNOWN_FACES_WINDOW_SECONDS = 120
    config = RecognitionConfig.from_settings()
    assert (config.unknown_max, config.unknown_window_seconds) == (3, 120)
