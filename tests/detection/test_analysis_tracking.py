"""Analysis tracking at sample rate, and the gate that lets still frames skip the detector."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from detection.analysis.gate import ChangeGate
from detection.analysis.sample_tracker import SampleTracker
from detection.backends import Detection
from tests.detection.shapes import scene_frames
from tests.detection.tiny_yolo import T0


def person(x: float, confidence: float = 0.8, label: str = "person") -> Detection:
    return Detection(label, confidence, (x, 0.2, x + 0.12, 0.8))


def test_a_box_moving_a_body_width_between_samples_keeps_its_id():
    tracker = SampleTracker()
    ids = set()
    for i in range(8):  # no overlap at all between successive boxes
        (track,) = tracker.update(T0 + timedelta(seconds=i), [person(0.13 * i)])
        ids.add(track.track_id)

    assert len(ids) == 1
    (track,) = tracker.pop_all()
    assert (track.first_seen, track.last_seen, track.hits) == (T0, T0 + timedelta(seconds=7), 8)


def test_two_objects_side_by_side_keep_their_own_ids_and_labels_never_mix():
    tracker = SampleTracker()
    first = tracker.update(T0, [person(0.1), person(0.6), person(0.35, label="car")])
    second = tracker.update(T0 + timedelta(seconds=1), [person(0.62), person(0.12), person(0.36, label="car")])

    assert [t.track_id for t in second] == [first[1].track_id, first[0].track_id, first[2].track_id]
    assert len({t.track_id for t in first}) == 3


def test_an_object_unseen_longer_than_the_gap_ends_and_comes_back_as_a_new_one():
    tracker = SampleTracker(max_gap=timedelta(seconds=3))
    (before,) = tracker.update(T0, [person(0.1)])

    assert tracker.pop_ended(T0 + timedelta(seconds=3)) == []
    (ended,) = tracker.pop_ended(T0 + timedelta(seconds=3, milliseconds=1))
    (after,) = tracker.update(T0 + timedelta(seconds=4), [person(0.1)])

    assert ended is before and after.track_id != before.track_id


def test_the_best_sighting_and_its_frame_are_kept():
    tracker = SampleTracker()
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(3)]
    for i, confidence in enumerate((0.6, 0.9, 0.7)):
        tracker.update(T0 + timedelta(seconds=i), [person(0.1 + 0.01 * i, confidence)], frames[i])

    (track,) = tracker.pop_all()
    assert track.best_confidence == 0.9 and track.best_at == T0 + timedelta(seconds=1)
    assert track.best_image is frames[1] and track.best_box == person(0.11).box


def test_the_gate_passes_changed_frames_and_an_object_that_left():
    frames = {round(t, 1): image for t, image, _ in scene_frames(8, 10)}
    gate = ChangeGate()

    assert gate.changed(frames[0.0])  # nothing seen yet
    gate.keep(frames[0.0])
    assert not gate.changed(frames[0.3])  # the empty scene, encoded noise aside
    assert gate.changed(frames[1.0])  # the person walked in
    gate.keep(frames[3.0])
    assert gate.changed(frames[4.0])  # ...and walked off: the reference still shows them
