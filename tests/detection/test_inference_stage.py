"""The live inference stage driven step by step: batching, fairness, gating, tracking,
events and overlays, with a small fake detector where that is clearer and with the real
default detector on a real photo."""

from __future__ import annotations

import queue
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cameras.frames import Frame
from detection.backends import Detection, Detector
from detection.models import ObjectEvent
from detection.selectors import CameraAI, camera_ai_settings
from detection.services import ObjectEventStore
from detection.stage import InferenceStage

W, H = 320, 180
YELLOW = (10, 240, 250)


class YellowBoxDetector(Detector):
    """Finds the one yellow rectangle a test draws and calls it `label`: a detector whose
    answer the test controls exactly."""

    def __init__(self, label="person", confidence_of_box=0.9, fail=False, **options):
        super().__init__(**options)
        self.label, self.score, self.fail = label, confidence_of_box, fail
        self.calls: list[int] = []
        self.shapes: list[tuple[int, int]] = []

    def _load(self):
        pass

    def _detect_batch(self, images):
        self.calls.append(len(images))
        self.shapes.extend(image.shape[:2] for image in images)
        if self.fail:
            raise RuntimeError("GPU fell off the bus")
        found = []
        for image in images:
            ys, xs = np.nonzero(np.all(image == YELLOW, axis=2))
            if len(xs) == 0:
                found.append([])
                continue
            h, w = image.shape[:2]
            box = (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)
            found.append([Detection(self.label, self.score, tuple(round(float(v), 4) for v in box))])
        return found


class Recorder:
    """A publisher that keeps what the live page would get."""

    def __init__(self):
        self.messages: list[tuple[str, dict]] = []

    def publish_detections(self, slug, payload):
        self.messages.append((slug, payload))


def background() -> np.ndarray:
    rng = np.random.default_rng(2)
    return np.kron(rng.integers(30, 200, (H // 10, W // 10, 3), dtype=np.uint8), np.ones((10, 10, 1), np.uint8))


def with_box(image, x, y=40, w=30, h=80):
    out = image.copy()
    out[y : y + h, x : x + w] = YELLOW
    return out


def ai(camera_id=1, slug="gate", **overrides):
    values = dict(
        id=camera_id,
        slug=slug,
        enabled=True,
        classes=frozenset({"person", "car"}),
        threshold=0.5,
        motion_gating=True,
    )
    values.update(overrides)
    return CameraAI(**values)


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def frames():
    return queue.Queue(maxsize=64)


@pytest.fixture
def published():
    return Recorder()


@pytest.fixture
def make_stage(frames, published, camera):
    """A stage over the real database (the `camera` fixture) and a fake detector."""

    def make(detector=None, settings=None, **options):
        settings = settings if settings is not None else (lambda: {camera.pk: ai(camera.pk, camera.slug)})
        options.setdefault("batch_ms", 5)
        return InferenceStage(
            frames=frames,
            detector=detector or YellowBoxDetector(),
            camera_settings=settings,
            store=ObjectEventStore({camera.pk: camera}),
            publisher=published,
            **options,
        )

    return make


def put(frames, camera_id, image, at):
    frames.put(Frame(camera_id=camera_id, captured_at=at, image=image, source_width=1280, source_height=720))


def test_a_static_scene_costs_one_look_and_no_more(make_stage, frames, camera):
    detector = YellowBoxDetector()
    stage = make_stage(detector)
    t0 = timezone.now()
    for i in range(30):
        put(frames, camera.pk, background(), t0 + timedelta(seconds=i / 5))
        stage.step()
    assert sum(detector.calls) == 1  # the first frame, to learn what is there
    assert stage.metrics.frames_gated == 29
    assert stage.metrics.frames_in == 30


def test_a_moving_person_is_one_tracked_event_and_overlays_carry_its_id(make_stage, frames, published, camera):
    stage = make_stage(batch_size=1)
    t0 = timezone.now() - timedelta(minutes=1)
    put(frames, camera.pk, background(), t0)
    stage.step()
    for i in range(1, 25):
        put(frames, camera.pk, with_box(background(), 20 + i * 8), t0 + timedelta(seconds=i / 5))
        assert stage.step()
    event = ObjectEvent.objects.get()
    assert event.label == "person" and event.camera == camera and event.track_id == 1
    assert event.snapshot.name.endswith(".jpg")
    overlays = [p for _, p in published.messages if p["objects"]]
    assert len(overlays) >= 20
    assert {o["track_id"] for p in overlays for o in p["objects"]} <= {1, None}
    assert overlays[-1]["objects"][0]["track_id"] == 1
    last = overlays[-1]
    assert last["width"] == W and last["height"] == H and last["inference_ms"] is not None
    assert last["captured_at"] == pytest.approx((t0 + timedelta(seconds=24 / 5)).timestamp())
    x1, _, x2, _ = last["objects"][0]["box"]
    assert x1 == pytest.approx((20 + 24 * 8) / W, abs=0.01) and x2 - x1 == pytest.approx(30 / W, abs=0.01)
    # The frames stop: 4 s later the event is still open, 6 s later it is closed at the
    # last sighting (lost_after is 5 s).
    stage.now = lambda: timezone.now() + timedelta(seconds=4)
    assert not stage.step()
    assert stage.cameras[camera.pk].events.active
    stage.now = lambda: timezone.now() + timedelta(seconds=6)
    stage.step()
    event.refresh_from_db()
    assert event.end == t0 + timedelta(seconds=24 / 5)
    assert not stage.cameras[camera.pk].events.active


def test_batches_are_fair_between_cameras_and_old_frames_are_dropped(make_stage, frames, camera):
    other = ai(camera.pk + 1000, "yard", motion_gating=False)
    detector = YellowBoxDetector()
    stage = make_stage(
        detector,
        settings=lambda: {camera.pk: ai(camera.pk, camera.slug, motion_gating=False), other.id: other},
        batch_size=4,
    )
    t0 = timezone.now()
    for i in range(20):  # a busy camera floods the queue...
        put(frames, camera.pk, background(), t0 + timedelta(seconds=i / 30))
    put(frames, other.id, background(), t0)  # ...and a quiet one sent one frame
    stage.step()
    assert detector.calls == [4]
    # The quiet camera's frame made the first batch (round robin), and the busy camera
    # kept only its newest frames: the 17 oldest were dropped and counted.
    assert stage.metrics.frames_dropped == 20 - 4
    assert stage.metrics.frames_detected == 4
    assert len(stage.cameras[other.id].pending) == 0


def test_a_batch_waits_at_most_batch_ms(make_stage, frames, camera):
    detector = YellowBoxDetector()
    stage = make_stage(detector, batch_size=8, batch_ms=20)
    put(frames, camera.pk, background(), timezone.now())
    assert stage.step()
    assert detector.calls == [1]
    assert not stage.step()  # nothing waiting: returns after at most batch_ms


def test_ai_settings_changes_apply_without_a_restart(make_stage, frames, camera):
    current = {camera.pk: ai(camera.pk, camera.slug, motion_gating=False)}
    detector = YellowBoxDetector()
    stage = make_stage(detector, settings=lambda: dict(current), refresh_s=0)
    t0 = timezone.now()
    put(frames, camera.pk, with_box(background(), 50), t0)
    stage.step()
    assert detector.calls == [1]
    current[camera.pk] = ai(camera.pk, camera.slug, enabled=False)
    stage._refreshed_at -= 1  # the refresh interval has passed
    put(frames, camera.pk, with_box(background(), 60), t0 + timedelta(seconds=1))
    stage.step()
    assert detector.calls == [1] and stage.metrics.frames_skipped == 1


def test_classes_and_confidence_of_the_camera_filter_events_and_overlays(make_stage, frames, published, camera):
    only_cars = {camera.pk: ai(camera.pk, camera.slug, classes=frozenset({"car"}), motion_gating=False)}
    stage = make_stage(YellowBoxDetector(label="person"), settings=lambda: only_cars)
    t0 = timezone.now()
    for i in range(5):
        put(frames, camera.pk, with_box(background(), 20 + 5 * i), t0 + timedelta(seconds=i))
        stage.step()
    assert ObjectEvent.objects.count() == 0
    assert all(p["objects"] == [] for _, p in published.messages)

    weak = {camera.pk: ai(camera.pk, camera.slug, threshold=0.95, motion_gating=False)}
    stage = make_stage(YellowBoxDetector(confidence_of_box=0.9), settings=lambda: weak)
    for i in range(5):
        put(frames, camera.pk, with_box(background(), 20 + 5 * i), t0 + timedelta(seconds=i))
        stage.step()
    assert ObjectEvent.objects.count() == 0


def test_a_person_standing_still_is_rechecked_and_keeps_one_open_event(make_stage, frames, camera):
    clock = Clock()
    detector = YellowBoxDetector()
    stage = make_stage(detector, clock=clock, recheck_s=2.0, batch_ms=0)
    t0 = timezone.now() - timedelta(minutes=5)
    still = with_box(background(), 100)
    put(frames, camera.pk, background(), t0)
    stage.step()
    for i in range(1, 5 * 60):  # one minute at 5 fps, nothing moves after the arrival
        clock.t += 0.2
        at = t0 + timedelta(seconds=i / 5)
        stage.now = lambda at=at: at
        put(frames, camera.pk, still, at)
        stage.step()
        if i == 150:
            looks_at_half_time = sum(detector.calls)
    # Motion while the background learns the newcomer, then one look every 2 s: the last
    # 30 s cost about 15 looks, not 150.
    assert 13 <= sum(detector.calls) - looks_at_half_time <= 17
    event = ObjectEvent.objects.get()
    assert stage.cameras[camera.pk].events.active  # still open
    assert event.end >= t0 + timedelta(seconds=50)


def test_a_failing_detector_is_counted_and_the_stage_goes_on(make_stage, frames, camera):
    stage = make_stage(YellowBoxDetector(fail=True), settings=lambda: {camera.pk: ai(camera.pk, camera.slug)})
    put(frames, camera.pk, background(), timezone.now())
    assert stage.step()
    assert stage.metrics.errors == 1
    put(frames, camera.pk, background(), timezone.now())
    assert stage.step()


def test_frames_of_an_unknown_camera_are_skipped(make_stage, frames, camera):
    stage = make_stage()
    put(frames, 999_999, background(), timezone.now())
    stage.step()
    assert stage.metrics.frames_skipped == 1 and ObjectEvent.objects.count() == 0


def test_camera_settings_come_from_the_admin(camera):
    camera.ai_classes = ["person"]
    camera.ai_confidence = 0.7
    camera.motion_gating = False
    camera.save()
    settings = camera_ai_settings()
    expected = CameraAI(
        camera.pk, "gate", True, frozenset({"person"}), 0.7, False, min_frames=django_settings.DETECTOR_MIN_FRAMES
    )
    assert settings[camera.pk] == expected
    camera.ai_enabled = False
    camera.save()
    assert not camera_ai_settings([camera.pk])[camera.pk].enabled


def test_the_real_detector_finds_the_people_of_bus_jpg(make_stage, frames, published, camera, onnx_detector, bus_photo):
    stage = make_stage(onnx_detector, batch_size=2)
    t0 = timezone.now() - timedelta(seconds=10)
    for i in range(4):
        put(frames, camera.pk, bus_photo, t0 + timedelta(seconds=i / 5))
        stage.step()
    people = [o for o in published.messages[-1][1]["objects"] if o["label"] == "person"]
    assert len(people) == 3
    assert {o["track_id"] for o in people} == {1, 2, 3}
    assert sorted(ObjectEvent.objects.values_list("label", flat=True)) == ["person", "person", "person"]
    assert stage.metrics.inference_ms > 0


def test_with_crop_to_motion_the_moving_part_is_sent_and_the_whole_frame_now_and_then(
    make_stage, frames, published, camera
):
    detector = YellowBoxDetector()
    detector.input_size = (128, 128)  # crops are squares of half the detector's input size
    clock = Clock()
    stage = make_stage(detector, crop_to_motion=True, batch_size=1, clock=clock)
    t0 = timezone.now()
    put(frames, camera.pk, background(), t0)
    stage.step()
    for i in range(1, 16):
        clock.t += 0.2
        x = 200 + 4 * i
        put(frames, camera.pk, with_box(background(), x, y=20, w=12, h=24), t0 + timedelta(seconds=i / 5))
        stage.step()
        payload = published.messages[-1][1]
        real = [o for o in payload["objects"] if not o.get("candidate")]
        if real:
            # Found in a crop or not, the box is where the object is in the whole frame.
            assert real[0]["box"] == pytest.approx([x / W, 20 / H, (x + 12) / W, 44 / H], abs=1e-3)
    assert detector.shapes[0] == (H, W)  # the first frame, whole
    assert detector.shapes[1] == (64, 64)  # then a crop around what moves, at the detector's size
    assert stage.cameras[camera.pk].events.active  # tracked from crops
    # While something is tracked, the whole frame again at least every recheck_s (2 s = 10
    # frames here), so still objects elsewhere keep their tracks; crops in between.
    wholes = [i for i, shape in enumerate(detector.shapes) if shape == (H, W)]
    assert len(wholes) >= 2 and all(b - a <= 11 for a, b in zip(wholes, wholes[1:], strict=False))
    assert detector.shapes.count((64, 64)) >= 10
    assert stage.metrics.crops == detector.shapes.count((64, 64))


def test_crops_are_squares_around_what_moves_or_the_whole_frame():
    from detection.motion import Motion, motion_crops

    moving = Motion(True, [(0.50, 0.40, 0.52, 0.47)], 0.001, "motion")  # a far person in 1920x1080
    (crop,) = motion_crops(moving, 1920, 1080, side=512)
    assert (crop[2] - crop[0]) * 1920 == pytest.approx(512) and (crop[3] - crop[1]) * 1080 == pytest.approx(512)
    assert crop[0] < 0.50 and crop[2] > 0.52 and crop[1] < 0.40 and crop[3] > 0.47
    # Two moving places far apart: two crops; close together: one around both.
    apart = Motion(True, [(0.05, 0.1, 0.07, 0.2), (0.9, 0.7, 0.92, 0.8)], 0.002, "motion")
    assert len(motion_crops(apart, 1920, 1080, side=512)) == 2
    close = Motion(True, [(0.40, 0.4, 0.42, 0.5), (0.50, 0.4, 0.52, 0.5)], 0.002, "motion")
    assert len(motion_crops(close, 1920, 1080, side=512)) == 1
    # Motion everywhere, a new scene, or a frame not much larger than the detector: whole frame.
    everywhere = Motion(True, [(0.05, 0.1, 0.07, 0.2), (0.5, 0.5, 0.52, 0.6), (0.9, 0.1, 0.92, 0.2)], 0.01, "motion")
    assert motion_crops(everywhere, 1920, 1080, side=512) == ((0.0, 0.0, 1.0, 1.0),)
    assert motion_crops(Motion(True, [(0, 0, 1, 1)], 1.0, "first frame"), 1920, 1080) == ((0.0, 0.0, 1.0, 1.0),)
    assert motion_crops(moving, 640, 360, side=512) == ((0.0, 0.0, 1.0, 1.0),)


def test_still_objects_are_rechecked_before_their_events_would_expire(make_stage):
    stage = make_stage(lost_after=timedelta(seconds=1), recheck_s=2.0)
    assert stage.recheck_s == 0.5


def test_settings_that_cannot_be_read_keep_the_last_ones(make_stage, frames, camera):
    answers = [{camera.pk: ai(camera.pk, camera.slug, motion_gating=False)}]

    def settings():
        if not answers:
            raise ConnectionError("database restarting")
        return answers.pop()

    detector = YellowBoxDetector()
    stage = make_stage(detector, settings=settings, refresh_s=0)
    put(frames, camera.pk, background(), timezone.now())
    assert stage.step()
    stage._refreshed_at -= 1
    put(frames, camera.pk, background(), timezone.now())
    assert stage.step()
    assert detector.calls == [1, 1] and stage.metrics.errors == 1
