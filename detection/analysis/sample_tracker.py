"""Following objects across sampled frames of recorded footage.

Offline analysis samples footage at 0.1-30 fps; at 1-2 fps a walking person moves about
a body width between samples, so boxes of one object often no longer overlap. Matching
is therefore by overlap first, then by nearness (the centre within reach of the old box,
a similar size): a greedy assignment per label, best pairs first. This is deliberately
small and time-based (a track ends when unseen for `max_gap`), not a motion-model tracker
like ByteTrack, which expects video rate input and frame counts rather than sparse samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from core.boxes import iou
from detection.backends.base import Detection

Box = tuple[float, float, float, float]


def affinity(a: Box, b: Box, *, min_iou: float, reach: float) -> float:
    """How well box b continues box a: IoU when they overlap enough, else a smaller score
    falling with the distance between centres (0 when out of reach or of another size)."""
    overlap = iou(a, b)
    if overlap >= min_iou:
        return overlap
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    if area_a <= 0 or area_b <= 0 or not 0.4 <= area_b / area_a <= 2.5:
        return 0.0
    distance = math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)
    limit = reach * max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1])
    if distance >= limit:
        return 0.0
    return min_iou * (1.0 - distance / limit)  # always below any overlap match


@dataclass
class Track:
    """One object followed through the footage, with its best sighting."""

    track_id: int
    label: str
    first_seen: datetime
    last_seen: datetime
    box: Box
    confidence: float
    best_box: Box
    best_confidence: float
    best_at: datetime
    hits: int = 1
    best_image: np.ndarray | None = field(default=None, repr=False)

    def see(self, detection: Detection, at: datetime, image: np.ndarray | None) -> bool:
        """Add a sighting; True when it is the best so far (the caller keeps its image)."""
        self.last_seen, self.box, self.confidence = at, detection.box, detection.confidence
        self.hits += 1
        if detection.confidence > self.best_confidence:
            self.best_confidence, self.best_box, self.best_at = detection.confidence, detection.box, at
            self.best_image = image
            return True
        return False


class SampleTracker:
    """Assigns track ids to the detections of successive samples.

    `update(at, detections, image)` returns the track of each detection, in order; tracks
    unseen for longer than `max_gap` are ended and handed out by `pop_ended(at)`, the rest
    by `pop_all()` at the end of the footage. `image` (the frame) is kept with a track's best
    sighting for its snapshot; pass None to keep none.
    """

    def __init__(self, *, max_gap: timedelta = timedelta(seconds=3), min_iou: float = 0.2, reach: float = 1.5):
        self.max_gap = max_gap
        self.min_iou = min_iou
        self.reach = reach
        self.active: dict[int, Track] = {}
        self._next_id = 1

    def update(self, at: datetime, detections: list[Detection], image: np.ndarray | None = None) -> list[Track]:
        pairs = []
        for d_index, detection in enumerate(detections):
            for track in self.active.values():
                if track.label != detection.label or at - track.last_seen > self.max_gap:
                    continue
                score = affinity(track.box, detection.box, min_iou=self.min_iou, reach=self.reach)
                if score > 0:
                    pairs.append((score, d_index, track.track_id))
        pairs.sort(key=lambda p: p[0], reverse=True)
        assigned: dict[int, Track] = {}
        taken: set[int] = set()
        for _, d_index, track_id in pairs:
            if d_index in assigned or track_id in taken:
                continue
            track = self.active[track_id]
            track.see(detections[d_index], at, image)
            assigned[d_index] = track
            taken.add(track_id)
        for d_index, detection in enumerate(detections):
            if d_index not in assigned:
                assigned[d_index] = self._start(detection, at, image)
        return [assigned[i] for i in range(len(detections))]

    def _start(self, detection: Detection, at: datetime, image: np.ndarray | None) -> Track:
        track = Track(
            track_id=self._next_id,
            label=detection.label,
            first_seen=at,
            last_seen=at,
            box=detection.box,
            confidence=detection.confidence,
            best_box=detection.box,
            best_confidence=detection.confidence,
            best_at=at,
            best_image=image,
        )
        self._next_id += 1
        self.active[track.track_id] = track
        return track

    def pop_ended(self, at: datetime) -> list[Track]:
        """Tracks unseen since more than `max_gap` before `at`, removed from the active set."""
        ended = [t for t in self.active.values() if at - t.last_seen > self.max_gap]
        for track in ended:
            del self.active[track.track_id]
        return ended

    def pop_all(self) -> list[Track]:
        ended = list(self.active.values())
        self.active.clear()
        return ended
