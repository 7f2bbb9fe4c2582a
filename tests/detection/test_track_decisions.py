"""Track-level decisions: a track is a real object (an event, a box on the live grid) only
when the median of its scores reaches the camera's threshold over enough frames. Driven
through the inference stage with the real ByteTrack tracker and a scripted detector."""

from __future__ import annotations

import queue
from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cameras.frames import Frame
from core.model_scores import BUNDLED
from detection.backends import Detection, Detector
from detection.backends.byte_tracker import ByteTracker
from detection.filters import ClassFilter
from detection.models import ObjectEvent
from detection.selectors import CameraAI, camera_ai_settings, camera_threshold
from detection.services import ObjectEventStore
from detection.stage import InferenceStage
from tests.detection.test_inference_stage import Recorder, background

FPS = 5


class ScriptedDetector(Detector):
    """Answers each call with the next scripted list of detections (one frame per call)."""

    def __init__(self, script: list[list[Detection]], **options):
        super().__init__(**options)
        self.script = list(script)

    def _load(self):
        pass

    def _detect_batch(self, images):
        return [self.script.pop(0) if self.script else [] for _ in images]


def person(score: float, x: float = 0.4) -> Detection:
    return Detection("person", score, (x, 0.3, x + 0.08, 0.7))


def run(camera, script: list[list[Detection]]):
    """Feed one frame per scripted answer (5 fps) through a stage with the bundled model's
    calibrated defaults; the stage and what it published."""
    ai = CameraAI(camera.pk, camera.slug, True, frozenset({"person"}), BUNDLED.threshold, False, min_frames=3)
    published = Recorder()
    stage, t0 = _drive(camera, ai, script, published)
    return stage, [payload for _, payload in published.messages], t0


def run_with(camera, ai: CameraAI, script: list[list[Detection]]):
    return _drive(camera, ai, script, Recorder())[0]


def _drive(camera, ai: CameraAI, script, published):
    frames = queue.Queue()
    stage = InferenceStage(
        frames=frames,
        detector=ScriptedDetector(script, confidence=BUNDLED.min_score),
        camera_settings=lambda: {camera.pk: ai},
        store=ObjectEventStore({camera.pk: camera}),
        publisher=published,
        batch_size=1,
        batch_ms=0,
        tracker_factory=partial(ByteTracker, high=BUNDLED.min_score, new=BUNDLED.min_score),
    )
    t0 = timezone.now() - timedelta(minutes=1)
    for i in range(len(script)):
        frames.put(Frame(camera.pk, t0 + timedelta(seconds=i / FPS), background(), 1280, 720))
        stage.step()
    return stage, t0


def drawn(payloads) -> list[dict]:
    """The boxes the live grid draws (candidates only show in its debug view)."""
    return [o for p in payloads for o in p["objects"] if not o.get("candidate")]


def test_one_frame_scoring_high_on_a_non_object_raises_no_event(camera):
    # A flash, a reflection: one frame at 0.92, nothing before or after.
    stage, payloads, _ = run(camera, [[]] * 3 + [[person(0.92)]] + [[]] * 10)
    assert ObjectEvent.objects.count() == 0
    assert drawn(payloads) == []
    assert any(o.get("candidate") for p in payloads for o in p["objects"])  # the debug view shows it


def test_a_poster_that_scored_high_once_then_low_raises_no_event(camera):
    # A poster of a person: one lucky frame, then the scores it really gets, under the threshold.
    stage, payloads, _ = run(camera, [[person(0.92)]] + [[person(0.22)] for _ in range(20)])
    assert ObjectEvent.objects.count() == 0
    assert drawn(payloads) == []
    assert stage.cameras[camera.pk].events.candidates  # tracked all along, never real


def test_a_person_scoring_0_3_to_0_45_for_a_second_raises_one_event(camera):
    scores = [0.32, 0.41, 0.30, 0.45, 0.36]
    script = [[person(score, x=0.1 + 0.03 * i)] for i, score in enumerate(scores)] + [[]] * 3
    stage, payloads, t0 = run(camera, script)
    event = ObjectEvent.objects.get()
    assert event.label == "person"
    # From the track's first frame (ByteTrack reports a track from its second sighting), not
    # from the frame that decided.
    assert event.start == t0 + timedelta(seconds=1 / FPS)
    assert event.confidence == pytest.approx(0.45)
    assert drawn(payloads)  # on the live grid once real
    assert not stage.cameras[camera.pk].events.candidates


def test_scores_below_the_threshold_stay_candidates_and_a_real_object_stays_real(camera):
    # Median 0.2 at first (under the model's 0.25): a candidate. It comes closer and scores 0.5: real. It turns
    # away (0.16): still the same real object, one event.
    script = [[person(0.2)] for _ in range(6)] + [[person(0.5)] for _ in range(8)] + [[person(0.16)] for _ in range(6)]
    stage, payloads, t0 = run(camera, script)
    event = ObjectEvent.objects.get()
    assert event.start == t0 + timedelta(seconds=1 / FPS)
    assert not payloads[3]["objects"] or all(o.get("candidate") for o in payloads[3]["objects"])
    assert drawn([payloads[-1]])


def test_a_camera_without_a_threshold_takes_the_models(camera):
    camera.ai_confidence = None
    camera.save()
    assert camera_threshold(camera) == BUNDLED.threshold
    assert camera_ai_settings()[camera.pk].threshold == BUNDLED.threshold
    camera.ai_confidence = 0.6
    camera.save()
    assert camera_threshold(camera) == 0.6
    assert camera_ai_settings()[camera.pk].threshold == 0.6


def test_class_filters_drop_boxes_of_the_wrong_size_or_shape():
    rule = ClassFilter("person", min_area=0.01, max_area=0.5, min_ratio=0.2, max_ratio=1.0)
    standing = (0.40, 0.30, 0.45, 0.70)  # 5 % x 40 % of a 1280x720 frame: 64x288 px
    assert rule.keeps(standing, 1280, 720)
    assert not rule.keeps((0.0, 0.0, 0.9, 0.9), 1280, 720)  # most of the frame: a shadow, a lens flare
    assert not rule.keeps((0.40, 0.30, 0.405, 0.32), 1280, 720)  # a speck
    assert not rule.keeps((0.1, 0.5, 0.6, 0.7), 1280, 720)  # lying flat: 640x144 px
    assert not rule.keeps((0.40, 0.10, 0.401, 0.90), 1280, 720)  # a pole


def test_a_class_rule_applies_in_the_stage(camera):
    from cameras.models import ObjectFilter

    # A camera whose people must be small (a far yard): the large box is dropped before
    # tracking; and cars need a higher score than the camera's threshold.
    ObjectFilter.objects.create(camera=camera, label="person", max_area=5.0)
    ObjectFilter.objects.create(camera=camera, label="car", threshold=0.8)
    camera.ai_classes = ["person", "car"]
    camera.save()
    ai = camera_ai_settings()[camera.pk]
    assert ai.filter_for("person").max_area == pytest.approx(0.05)
    stage = run_with(camera, ai, [[person(0.6)] for _ in range(6)])  # 8 % x 40 %: 3.2 % of the frame
    assert ObjectEvent.objects.count() == 1
    ObjectEvent.objects.all().delete()
    big = Detection("person", 0.9, (0.2, 0.1, 0.6, 0.9))  # 32 % of the frame
    car = Detection("car", 0.6, (0.6, 0.5, 0.8, 0.7))
    stage = run_with(camera, ai, [[big, car] for _ in range(6)])
    assert ObjectEvent.objects.count() == 0
    assert stage.cameras[camera.pk].events.candidates  # the car: tracked, under its class's threshold


def test_an_object_filter_with_a_minimum_over_its_maximum_is_refused(admin_client, camera):
    from cameras.models import ObjectFilter

    bad = ObjectFilter(camera=camera, label="person", min_area=20, max_area=10, min_ratio=2, max_ratio=1)
    with pytest.raises(ValidationError) as refused:
        bad.full_clean()
    assert set(refused.value.message_dict) == {"max_area", "max_ratio"}
