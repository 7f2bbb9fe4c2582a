"""Faces followed across frames by box overlap, with an identity decided by vote.

Each track keeps the last `window` match results (employee id or None for unknown);
its identity is the label holding a strict majority of them once at least `min_votes`
were cast. A different label must win that majority to replace it, so one bad frame
(a blurred face matched to someone else, a profile view) never flips a track.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from attendance.recognition.matcher import Match

from core.boxes import iou

UNKNOWN = None
_UNDECIDED = object()


@dataclass
class FaceTrack:
    track_id: int
    box: tuple
    first_seen: datetime
    last_seen: datetime
    window: int
    min_votes: int
    votes: deque = field(default_factory=deque)
    similarities: deque = field(default_factory=deque)
    identity: object = _UNDECIDED
    best_similarity: float = 0.0

    def vote(self, employee_id: int | None, similarity: float) -> None:
        self.votes.append(employee_id)
        self.similarities.append(similarity)
        while len(self.votes) > self.window:
            self.votes.popleft()
            self.similarities.popleft()
        if len(self.votes) < self.min_votes:
            return
        label, count = Counter(self.votes).most_common(1)[0]
        if count * 2 > len(self.votes) and label != self.identity:
            self.identity = label
        if self.identity is not _UNDECIDED:
            self.best_similarity = max(
                (s for v, s in zip(self.votes, self.similarities, strict=True) if v == self.identity), default=0.0
            )

    @property
    def decided(self) -> bool:
        return self.identity is not _UNDECIDED

    @property
    def employee_id(self) -> int | None:
        return None if self.identity is _UNDECIDED else cast("int | None", self.identity)


class FaceTracker:
    """The tracks of one camera. `update` takes this frame's faces (box plus match, or
    None when the face failed the quality gates: it keeps the track alive without voting)."""

    def __init__(
        self, *, iou_threshold: float = 0.3, max_age_seconds: float = 2.0, window: int = 7, min_votes: int = 3
    ):
        self.iou_threshold = iou_threshold
        self.max_age_seconds = max_age_seconds
        self.window = window
        self.min_votes = min_votes
        self.tracks: dict[int, FaceTrack] = {}
        self._next_id = 1

    def update(self, at: datetime, observations: list[tuple[tuple, Match | None]]) -> list[FaceTrack]:
        """observations: (box, Match | None) per face. Returns the track of each observation."""
        self.expire(at)
        pairs = sorted(
            (
                (iou(track.box, box), track_id, index)
                for index, (box, _) in enumerate(observations)
                for track_id, track in self.tracks.items()
            ),
            reverse=True,
        )
        assigned: dict[int, FaceTrack] = {}
        used_tracks: set[int] = set()
        for overlap, track_id, index in pairs:  # greedy: best overlaps first
            if overlap < self.iou_threshold:
                break
            if index in assigned or track_id in used_tracks:
                continue
            assigned[index] = self.tracks[track_id]
            used_tracks.add(track_id)
        result = []
        for index, (box, match) in enumerate(observations):
            track = assigned.get(index)
            if track is None:
                track = FaceTrack(
                    self._next_id, box, first_seen=at, last_seen=at, window=self.window, min_votes=self.min_votes
                )
                self.tracks[track.track_id] = track
                self._next_id += 1
            track.box = box
            track.last_seen = at
            if match is not None:
                track.vote(match.employee_id, match.similarity)
            result.append(track)
        return result

    def expire(self, at: datetime) -> list[FaceTrack]:
        gone = [t for t in self.tracks.values() if (at - t.last_seen).total_seconds() > self.max_age_seconds]
        for track in gone:
            del self.tracks[track.track_id]
        return gone
