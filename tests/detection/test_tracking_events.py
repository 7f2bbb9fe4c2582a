"""Tracks and their events: stable ids, one ObjectEvent per track, rate control, closing."""

from __future__ import annotations

import tempfile
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from detection.backends import Detection
from detection.backends.byte_tracker import ByteTracker, TrackedObject
from detection.models import ObjectEvent
from detection.services import ObjectEventStore, close_stale_live_events, start_object_event
from detection.track_events import TrackEvents

W, H = 640, 360


def _walker(step: int, y: float = 0.2) -> Detection:
    x = 0.05 + step * 0.012
    return Detection("person", 0.8, (x, y, x + 0.08, y + 0.4))


def test_track_ids_stay_stable_for_boxes_moving_across_a_clip():
    tracker = ByteTracker()
    rng = np.random.default_rng(5)
    ids_walker, ids_car = set(), set()
    for step in range(60):
        jitter = rng.normal(0, 0.002, 4)
        walker = _walker(step)
        walker = Detection("person", 0.8 + rng.normal(0, 0.03), tuple(np.clip(np.add(walker.box, jitter), 0, 1)))
        x = 0.85 - step * 0.01
        car = Detection("car", 0.7, (x - 0.15, 0.55, x, 0.8))
        # The person is hidden for two frames midway (behind a post): ByteTrack keeps the id.
        found = tracker.update([car] if step in (30, 31) else [walker, car], W, H)
        for obj in found:
            (ids_walker if obj.label == "person" else ids_car).add(obj.track_id)
    assert len(ids_walker) == 1 and len(ids_car) == 1
    assert ids_walker != ids_car


def test_a_new_object_gets_a_new_id_and_a_gone_one_stops_reporting():
    tracker = ByteTracker()
    first = [tracker.update([_walker(i)], W, H) for i in range(5)]
    assert {o.track_id for frame in first for o in frame} == {1}
    assert tracker.update([], W, H) == []
    second = Detection("person", 0.9, (0.7, 0.1, 0.8, 0.5))
    for _ in range(3):
        later = tracker.update([_walker(6), second], W, H)
    assert sorted(o.track_id for o in later) == [1, 2]


@pytest.fixture
def sent(monkeypatch):
    """Dashboard messages the services hand to broadcast_on_commit (which sends them after
    the commit: test_on_event_started_runs_after_commit checks that path)."""
    messages = []
    monkeypatch.setattr(
        "detection.services.broadcast_on_commit", lambda group, event, payload: messages.append((group, event, payload))
    )
    return messages


@pytest.fixture
def store(camera):
    return ObjectEventStore({camera.pk: camera})


def _person(conf=0.8, box=(0.1, 0.2, 0.3, 0.9), track_id=1):
    return TrackedObject(track_id, "person", conf, box)


def test_a_person_standing_still_is_one_event_updated_every_few_seconds(camera, store, sent):
    events = TrackEvents(camera.pk, store, lost_after=timedelta(seconds=5), update_every=timedelta(seconds=5))
    t0 = timezone.now() - timedelta(hours=2)
    frame = np.zeros((H, W, 3), np.uint8)
    # 5 fps for 20 minutes (6,000 frames), the confidence wobbling as real detectors do.
    seconds = 20 * 60
    for i in range(5 * seconds):
        events.observe(t0 + timedelta(seconds=i / 5), [_person(conf=0.8 + 0.01 * (i % 3))], frame)
    assert ObjectEvent.objects.count() == 1
    assert events.writes <= seconds / 5 + 2
    event = ObjectEvent.objects.get()
    assert event.start == t0
    # The end follows the sightings while the person stays (saved at most 5 s late).
    assert t0 + timedelta(seconds=seconds - 5) <= event.end <= t0 + timedelta(seconds=seconds)
    last_seen = t0 + timedelta(seconds=(5 * seconds - 1) / 5)
    events.expire(last_seen + timedelta(seconds=5))
    event.refresh_from_db()
    assert event.end == last_seen
    assert event.confidence == pytest.approx(0.82)
    assert not events.active
    # Dashboards: one message when it started, one when it ended (and one alert to review).
    detections = [(g, p) for g, e, p in sent if e == "detection.event"]
    assert [(g, p["ongoing"]) for g, p in detections] == [("camera.gate", True), ("camera.gate", False)]
    assert detections[1][1]["end"] == last_seen.isoformat()
    assert [e for _, e, _ in sent].count("review.alert") == 1


def test_the_event_keeps_where_the_object_went_for_boxes_on_the_recording(camera, store, sent):
    """A person walks right for 4 s, then stands for a minute: the path has a point at each
    move and one every 2 s standing, from the first sighting (a candidate's frames too), and
    it is what the store saved."""
    events = TrackEvents(camera.pk, store, lost_after=timedelta(seconds=5), update_every=timedelta(seconds=5))
    t0 = timezone.now() - timedelta(minutes=10)
    for i in range(20):  # 5 fps, 0.025 of the frame a frame
        x = 0.1 + 0.025 * i
        events.observe(t0 + timedelta(seconds=i / 5), [_person(box=(x, 0.2, x + 0.2, 0.9))])
    for i in range(20, 20 + 5 * 60):
        events.observe(t0 + timedelta(seconds=i / 5), [_person(box=(0.575, 0.2, 0.775, 0.9))])
    events.expire(t0 + timedelta(minutes=5))
    path = ObjectEvent.objects.get().path
    walking = [p for p in path if p[0] < 4]
    assert [p[0] for p in walking] == pytest.approx([i / 5 for i in range(20)])
    assert walking[0][1:] == [0.1, 0.2, 0.3, 0.9]
    standing = [p for p in path if p[0] >= 4]
    # It stopped at 3.8 s (the last walking point): then a point every 2 s until 63.8 s.
    assert [p[0] for p in standing] == pytest.approx([5.8 + 2 * i for i in range(30)])


def test_a_long_path_is_thinned_keeping_its_ends():
    from detection.track_events import PATH_POINTS, extend_path

    t0 = timezone.now()
    path = []
    for i in range(3 * PATH_POINTS):
        x = (i % 2) * 0.5  # moves every time
        extend_path(path, t0, t0 + timedelta(seconds=i), (x, 0.1, x + 0.1, 0.5))
    assert PATH_POINTS // 2 <= len(path) <= PATH_POINTS
    assert path[0][0] == 0 and path[-1][0] == 3 * PATH_POINTS - 1
    assert [p[0] for p in path] == sorted(p[0] for p in path)


def test_a_track_lost_for_n_seconds_closes_and_a_returning_id_starts_anew(camera, store, sent):
    events = TrackEvents(camera.pk, store, lost_after=timedelta(seconds=3), update_every=timedelta(seconds=2))
    t0 = timezone.now() - timedelta(minutes=5)
    for i in range(10):
        events.observe(t0 + timedelta(seconds=i), [_person()])
    events.observe(t0 + timedelta(seconds=11), [])  # 2 s unseen: still open
    assert ObjectEvent.objects.get().end < t0 + timedelta(seconds=10)
    assert len(events.active) == 1
    events.observe(t0 + timedelta(seconds=12), [])  # 3 s unseen: closed at the last sighting
    assert ObjectEvent.objects.get().end == t0 + timedelta(seconds=9)
    events.observe(t0 + timedelta(seconds=20), [_person()])
    assert ObjectEvent.objects.count() == 2


def test_the_snapshot_is_the_best_sighting_and_replaces_the_old_file(camera, store, sent):
    events = TrackEvents(camera.pk, store, update_every=timedelta(seconds=1))
    t0 = timezone.now() - timedelta(minutes=1)
    dark = np.full((H, W, 3), 20, np.uint8)
    bright = np.full((H, W, 3), 230, np.uint8)
    events.observe(t0, [_person(conf=0.5)], dark)
    event = ObjectEvent.objects.get()
    first_file = event.snapshot.path
    assert event.snapshot.name.endswith(".jpg")
    assert sent[0][2]["snapshot"] == event.snapshot.url
    events.observe(t0 + timedelta(seconds=1), [_person(conf=0.9, box=(0.2, 0.2, 0.4, 0.9))], bright)
    event.refresh_from_db()
    assert event.confidence == pytest.approx(0.9) and event.box == [0.2, 0.2, 0.4, 0.9]
    import cv2

    saved = cv2.imread(event.snapshot.path)
    assert saved is not None and saved.shape == (H, W, 3) and saved.mean() > 200
    import os

    assert event.snapshot.path != first_file and not os.path.exists(first_file)


def test_on_event_started_runs_after_commit(camera, monkeypatch, django_capture_on_commit_callbacks):
    seen = []
    monkeypatch.setattr("detection.services.on_event_started", lambda event: seen.append(event.pk))
    monkeypatch.setattr("core.realtime.send_now", lambda *a: None)
    with django_capture_on_commit_callbacks() as callbacks:
        event = start_object_event(
            camera=camera, label="car", confidence=0.7, box=(0.1, 0.1, 0.2, 0.2), track_id=3, at=timezone.now()
        )
    assert seen == []  # not before the commit
    for callback in callbacks:
        callback()
    assert seen == [event.pk]
    assert event.end is None and event.source == "live"


def test_classes_not_asked_for_make_no_event(camera, store):
    events = TrackEvents(camera.pk, store, classes={"car"})
    events.observe(timezone.now(), [_person()])
    assert ObjectEvent.objects.count() == 0


def test_events_left_open_by_a_killed_process_are_closed_at_start_up(camera, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        start = timezone.now() - timedelta(minutes=3)
        event = start_object_event(camera=camera, label="car", confidence=0.7, box=(0, 0, 1, 1), track_id=1, at=start)
    assert close_stale_live_events([camera.pk]) == 1
    event.refresh_from_db()
    assert event.end == start
    assert close_stale_live_events([camera.pk]) == 0


def test_a_failed_first_write_is_retried_at_the_next_sighting(camera, store):
    class Flaky:
        def __init__(self):
            self.fail = True

        def start(self, camera_id, track, snapshot):
            if self.fail:
                self.fail = False
                raise RuntimeError("database restarting")
            return store.start(camera_id, track, snapshot)

        def update(self, *args):
            store.update(*args)

        def close(self, *args):
            store.close(*args)

    events = TrackEvents(camera.pk, Flaky())
    t0 = timezone.now()
    with pytest.raises(RuntimeError):
        events.observe(t0, [_person()])
    assert not events.active
    events.observe(t0 + timedelta(seconds=1), [_person()])
    # The object was there from its first sighting, whose write failed.
    assert ObjectEvent.objects.get().start == t0


def test_the_default_install_tracks_and_detects_without_torch_or_ultralytics(bus_photo):
    """The default (CPU) requirements have neither: in a process where importing them fails,
    the bundled detector and the tracker still work."""
    code = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "ultralytics", "lap"):
            raise ImportError("not in the default install: " + name)
sys.meta_path.insert(0, Refuse())
import numpy as np
from detection.backends import create_detector
from detection.backends.byte_tracker import ByteTracker
photo = np.load(sys.argv[1])
detector = create_detector("onnx", confidence=0.3)
tracker = ByteTracker()
for _ in range(3):
    found = tracker.update(detector.detect([photo])[0], photo.shape[1], photo.shape[0])
print(sorted(o.label for o in found))
"""
    import subprocess
    import sys
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "photo.npy"
    np.save(path, bus_photo)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().count("'person'") >= 3
