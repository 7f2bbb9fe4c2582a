"""Tracks follow a face by overlap; a majority vote decides who it is, so a few bad
frames never flip the identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attendance.recognition.face_tracker import FaceTracker
from attendance.recognition.matcher import Match

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def feed(tracker, labels, box=(100, 100, 180, 190), start=0):
    track = None
    for i, label in enumerate(labels):
        moved = (box[0] + 2 * i, box[1], box[2] + 2 * i, box[3])  # walking slowly
        at = T0 + timedelta(seconds=(start + i) * 0.2)
        (track,) = tracker.update(at, [(moved, Match(label, 0.7 if label else 0.1))])
    return track


def test_identity_waits_for_the_minimum_votes():
    tracker = FaceTracker(window=7, min_votes=3)
    assert not feed(tracker, [5, 5]).decided
    assert feed(tracker, [5], start=2).employee_id == 5


def test_a_few_bad_frames_do_not_flip_the_identity():
    tracker = FaceTracker(window=7, min_votes=3)
    track = feed(tracker, [5, 5, 5, 5, 5, 9, None, 9, 5])
    assert track.employee_id == 5
    assert len(tracker.tracks) == 1  # one face, one track throughout


def test_a_sustained_change_does_flip_it():
    tracker = FaceTracker(window=5, min_votes=3)
    track = feed(tracker, [5, 5, 5, 9, 9, 9, 9])
    assert track.employee_id == 9


def test_gated_out_frames_keep_the_track_without_voting():
    tracker = FaceTracker(window=7, min_votes=3)
    track = feed(tracker, [5, 5, 5])
    (same,) = tracker.update(T0 + timedelta(seconds=1), [((104, 100, 184, 190), None)])
    assert same is track and list(track.votes) == [5, 5, 5]


def test_two_faces_far_apart_get_two_tracks_and_an_old_track_expires():
    tracker = FaceTracker(window=7, min_votes=1, max_age_seconds=2)
    a, b = tracker.update(T0, [((0, 0, 50, 50), Match(1, 0.8)), ((300, 0, 350, 50), Match(2, 0.8))])
    assert a is not b and (a.employee_id, b.employee_id) == (1, 2)
    (c,) = tracker.update(T0 + timedelta(seconds=3), [((0, 0, 50, 50), Match(1, 0.8))])
    assert c is not a and len(tracker.tracks) == 1


def test_a_stranger_is_decided_unknown():
    tracker = FaceTracker(window=7, min_votes=3)
    track = feed(tracker, [None, None, None])
    assert track.decided and track.employee_id is None
