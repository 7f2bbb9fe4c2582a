"""From tracked objects to ObjectEvents: one event per real object, with rate control.

A track starts as a candidate. It becomes a real object, and its event is created, once it
was seen in ``min_frames`` frames and the median of its scores (its last ``SCORE_WINDOW``
at most) reaches the camera's ``threshold``; the event starts at the candidate's first
sighting. One frame that scores high on a flash or a poster is thus no event, and a person
the model scores 0.3-0.45 frame after frame is one. Once real, the object stays real while
tracked, whatever its scores (they dip as people turn). Per-class rules of the camera
(``per_label``) may set another threshold and frame count.

A real object's end and best sighting are saved at most every ``update_every`` while it
stays in view, and its event is closed once the track has not been seen for ``lost_after``.
A person standing still for an hour is therefore one row, written about 720 times at a
5 s interval, not 18,000 times at 5 fps.

After a restart of the inference process its tracker starts afresh, but a person still
in view is the same person: the events the previous process left open (or saw lately) are
handed in as ``resumable``, and a new track that overlaps one of them (same label, box IoU
>= ``resume_iou``, within ``lost_after`` + ``update_every`` of its last sighting) continues
that event instead of starting a second one. Those not taken up in that window are closed
at their last sighting.

The writes go through a store (detection.services.ObjectEventStore in production), so
this module holds state only and tests can drive it frame by frame with any clock.
"""

from __future__ import annotations

import logging
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, cast

import cv2
import numpy as np

from cameras.zones import AreaMap
from core.boxes import iou
from detection.backends.byte_tracker import TrackedObject
from detection.filters import ClassFilter
from detection.zone_presence import ZonePresence

log = logging.getLogger("detection.track_events")

SNAPSHOT_QUALITY = 85
# A better sighting replaces the snapshot only when clearly better: re-encoding and
# rewriting a JPEG for +0.01 of confidence is waste.
SNAPSHOT_MARGIN = 0.05
# How many of a candidate's latest scores its median is taken over: a person who walks in
# from afar and scores higher as they come closer becomes real once the recent frames say so.
SCORE_WINDOW = 10
# Where an object went, for its boxes on recorded video: a point when its box moved by more
# than PATH_MOVE of the frame, or PATH_EVERY_S after the last one; past PATH_POINTS every
# other point is dropped (a person standing for hours stays a small row).
PATH_MOVE = 0.02
PATH_EVERY_S = 2.0
PATH_POINTS = 600


def extend_path(path: list, start: datetime, now: datetime, box) -> None:
    """Add `box` seen at `now` to `path` ([[seconds from start, x1, y1, x2, y2], ...]) when it
    tells something new."""
    t = round((now - start).total_seconds(), 2)
    if path:
        last = path[-1]
        moved = max(abs(a - b) for a, b in zip(last[1:], box, strict=True))
        if moved < PATH_MOVE and t - last[0] < PATH_EVERY_S - 0.005:  # seconds are rounded to 0.01
            return
    path.append([t, *(round(float(v), 4) for v in box)])
    if len(path) > PATH_POINTS:
        del path[1:-1:2]  # the first and last points stay


@dataclass
class Candidate:
    """A track not (yet) judged a real object."""

    track_id: int
    label: str
    first_seen: datetime
    last_seen: datetime
    scores: deque = field(default_factory=lambda: deque(maxlen=SCORE_WINDOW))
    frames: int = 0
    best_confidence: float = 0.0
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    best_image: np.ndarray | None = field(default=None, repr=False)
    path: list = field(default_factory=list, repr=False)
    presence: ZonePresence = field(default_factory=ZonePresence, repr=False)

    def see(self, obj: TrackedObject, now: datetime, image: np.ndarray | None) -> None:
        self.last_seen = now
        self.frames += 1
        self.scores.append(obj.confidence)
        extend_path(self.path, self.first_seen, now, obj.box)
        if obj.confidence > self.best_confidence:
            self.best_confidence, self.box, self.label = obj.confidence, obj.box, obj.label
            self.best_image = image

    def is_real(self, threshold: float, min_frames: int) -> bool:
        return self.frames >= min_frames and statistics.median(self.scores) >= threshold


@dataclass
class ActiveTrack:
    track_id: int
    label: str
    start: datetime
    last_seen: datetime
    confidence: float
    box: tuple[float, float, float, float]
    event_id: int | None = None
    saved_at: datetime | None = None
    saved_end: datetime | None = None
    saved_confidence: float = 0.0
    best_image: np.ndarray | None = field(default=None, repr=False)
    snapshot_confidence: float = 0.0
    path: list = field(default_factory=list, repr=False)  # see extend_path
    saved_points: int = 0
    presence: ZonePresence = field(default_factory=ZonePresence, repr=False)
    saved_zones: int = 0


class OpenEvent(Protocol):
    """An event a previous process left going (detection.selectors.OpenEvent, a frozen
    dataclass: hence read-only members)."""

    @property
    def id(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def last_seen(self) -> datetime: ...
    @property
    def confidence(self) -> float: ...
    @property
    def box(self) -> tuple[float, float, float, float]: ...
    @property
    def path(self) -> list[list[float]]: ...
    @property
    def zones(self) -> list[str]: ...


class EventStore(Protocol):
    """Where events are written. Each method returns once the write is committed."""

    def start(self, camera_id: int, track: ActiveTrack, snapshot: bytes | None) -> int: ...

    def update(self, event_id: int, track: ActiveTrack, snapshot: bytes | None) -> None: ...

    def close(self, event_id: int, track: ActiveTrack, snapshot: bytes | None) -> None: ...

    def open_events(self, camera_id: int, since: datetime) -> Sequence[OpenEvent]:
        """The camera's live events left open, or last seen at or after `since`."""
        ...


def encode_snapshot(image: np.ndarray | None) -> bytes | None:
    if image is None:
        return None
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    return data.tobytes() if ok else None


class TrackEvents:
    """The events of one camera's tracks. Call ``observe()`` with each frame the detector
    looked at, and ``expire()`` regularly (also when frames stop coming)."""

    def __init__(
        self,
        camera_id: int,
        store: EventStore,
        *,
        lost_after: timedelta = timedelta(seconds=5),
        update_every: timedelta = timedelta(seconds=5),
        classes: set[str] | None = None,
        threshold: float = 0.0,
        min_frames: int = 1,
        resumable: Iterable[OpenEvent] = (),
        resume_iou: float = 0.3,
    ):
        self.camera_id = camera_id
        self.store = store
        self.lost_after = lost_after
        self.update_every = update_every
        self.classes = classes
        self.threshold = threshold
        self.min_frames = max(1, int(min_frames))
        # Per-class thresholds and frame counts (detection.filters.ClassFilter), by label.
        self.per_label: dict[str, ClassFilter] = {}
        # The camera's zones: each event records those its object entered.
        self.zone_map = AreaMap(())
        self.candidates: dict[int, Candidate] = {}
        self.active: dict[int, ActiveTrack] = {}
        # Events a previous process left going, until a new track takes one up or it expires.
        self.resumable: dict[int, OpenEvent] = {e.id: e for e in resumable}
        self.resume_iou = resume_iou
        self.resumed = 0
        self.writes = 0

    @property
    def resume_within(self) -> timedelta:
        """How long after its last saved sighting an event may be taken up again: the saved
        end lags the real last sighting by up to ``update_every``."""
        return self.lost_after + self.update_every

    def observe(self, now: datetime, objects: list[TrackedObject], image: np.ndarray | None = None) -> None:
        zones = self.zone_map.areas
        in_zones = self.zone_map.inside([o.box for o in objects], [o.label for o in objects])
        for n, obj in enumerate(objects):
            if self.classes is not None and obj.label not in self.classes:
                continue
            track = self.active.get(obj.track_id)
            if track is None and self.resumable:
                track = self._resume(obj, now, image, in_zones[n])
                if track is not None:
                    continue
            if track is None:
                candidate = self.candidates.get(obj.track_id)
                if candidate is None:
                    candidate = self.candidates[obj.track_id] = Candidate(obj.track_id, obj.label, now, now)
                candidate.see(obj, now, image)
                candidate.presence.see(zones, in_zones[n], now)
                if candidate.is_real(*self.rule_for(candidate.label)):
                    self._start(candidate, now)
                continue
            track.last_seen = now
            extend_path(track.path, track.start, now, obj.box)
            entered = track.presence.see(zones, in_zones[n], now)
            if obj.confidence > track.confidence:
                track.confidence, track.box, track.label = obj.confidence, obj.box, obj.label
                if image is not None and obj.confidence >= track.snapshot_confidence + SNAPSHOT_MARGIN:
                    track.best_image = image
            if entered or track.saved_at is None or now - track.saved_at >= self.update_every:
                self._save(track, now)  # at once when it entered a zone: alerts may wait on that
        self.expire(now)

    def rule_for(self, label: str) -> tuple[float, int]:
        """The event threshold and minimum frames of a class on this camera."""
        rule = self.per_label.get(label)
        if rule is None:
            return self.threshold, self.min_frames
        return (
            self.threshold if rule.threshold is None else rule.threshold,
            self.min_frames if rule.min_frames is None else rule.min_frames,
        )

    def is_real(self, track_id: int | None) -> bool:
        """Whether the track is a real object (None, an untracked box's id: never)."""
        return track_id in self.active

    def _start(self, candidate: Candidate, now: datetime) -> None:
        track = ActiveTrack(
            candidate.track_id,
            candidate.label,
            candidate.first_seen,
            now,
            candidate.best_confidence,
            candidate.box,
            path=candidate.path,
            presence=candidate.presence,
        )
        # Real only once stored: if the write fails, the candidate's next sighting tries again.
        track.event_id = self.store.start(self.camera_id, track, encode_snapshot(candidate.best_image))
        del self.candidates[candidate.track_id]
        track.snapshot_confidence = candidate.best_confidence
        track.saved_at, track.saved_confidence = now, candidate.best_confidence
        track.saved_points = len(track.path)
        track.saved_zones = len(track.presence.entered)
        self.active[candidate.track_id] = track
        self.writes += 1

    def _resume(self, obj: TrackedObject, now: datetime, image, in_zones) -> ActiveTrack | None:
        """Continue the open event that `obj` (a new track) most overlaps, if any."""
        best, best_iou = None, self.resume_iou
        for event in self.resumable.values():
            if event.label != obj.label or now - event.last_seen > self.resume_within:
                continue
            overlap = iou(event.box, obj.box)
            if overlap >= best_iou:
                best, best_iou = event, overlap
        if best is None:
            return None
        del self.resumable[best.id]
        track = ActiveTrack(
            obj.track_id,
            best.label,
            best.start,
            now,
            best.confidence,
            cast("tuple[float, float, float, float]", tuple(best.box)),
            event_id=best.id,
            saved_at=now,
            saved_end=best.last_seen,
            saved_confidence=best.confidence,
            snapshot_confidence=best.confidence,
            path=list(best.path),
            presence=ZonePresence(entered=list(best.zones)),
        )
        track.saved_zones = len(best.zones)
        extend_path(track.path, track.start, now, obj.box)
        track.presence.see(self.zone_map.areas, in_zones, now)
        if obj.confidence > track.confidence:
            track.confidence, track.box = obj.confidence, obj.box
            if image is not None and obj.confidence >= track.snapshot_confidence + SNAPSHOT_MARGIN:
                track.best_image = image
        self.active[obj.track_id] = track
        self.resumed += 1
        self._save(track, now)  # the event goes on: its end moves at once
        return track

    def _save(self, track: ActiveTrack, now: datetime) -> None:
        snapshot = encode_snapshot(track.best_image)
        if snapshot is not None:
            track.snapshot_confidence = track.confidence
        track.best_image = None
        unchanged = track.last_seen == track.saved_end and track.confidence == track.saved_confidence
        news = len(track.path) != track.saved_points or len(track.presence.entered) != track.saved_zones
        if unchanged and snapshot is None and not news:
            track.saved_at = now  # nothing new to write
            return
        self.store.update(_event_id(track), track, snapshot)
        track.saved_at, track.saved_end, track.saved_confidence = now, track.last_seen, track.confidence
        track.saved_points, track.saved_zones = len(track.path), len(track.presence.entered)
        self.writes += 1

    def expire(self, now: datetime) -> list[int]:
        """Close the events of tracks unseen for ``lost_after``; their ids."""
        for track_id in [c.track_id for c in self.candidates.values() if now - c.last_seen >= self.lost_after]:
            del self.candidates[track_id]
        closed = [t for t in self.active.values() if now - t.last_seen >= self.lost_after]
        for track in closed:
            self._close(track)
        gone = [e for e in self.resumable.values() if now - e.last_seen > self.resume_within]
        for event in gone:
            self._close_resumable(event)
        return [_event_id(t) for t in closed] + [e.id for e in gone]

    def close_all(self) -> None:
        """Close every open event at its last sighting (the stage is stopping)."""
        self.candidates.clear()
        for track in list(self.active.values()):
            self._close(track)
        for event in list(self.resumable.values()):
            self._close_resumable(event)

    def _close_resumable(self, event: OpenEvent) -> None:
        """Nobody took the event up: it ends at its last saved sighting."""
        self.resumable.pop(event.id, None)
        track = ActiveTrack(
            0,
            event.label,
            event.start,
            event.last_seen,
            event.confidence,
            cast("tuple[float, float, float, float]", tuple(event.box)),
            path=list(event.path),
            presence=ZonePresence(entered=list(event.zones)),
        )
        self.store.close(event.id, track, None)
        self.writes += 1

    def _close(self, track: ActiveTrack) -> None:
        snapshot = encode_snapshot(track.best_image)
        track.best_image = None
        self.active.pop(track.track_id, None)
        self.store.close(_event_id(track), track, snapshot)
        self.writes += 1


def _event_id(track: ActiveTrack) -> int:
    """The event of an active track (started with one: _start() stores it at once)."""
    if track.event_id is None:
        raise RuntimeError(f"track {track.track_id} has no event")
    return track.event_id
