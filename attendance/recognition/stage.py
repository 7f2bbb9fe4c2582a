"""The recognition stage: camera frames in, presence / attendance / alerts out.

    stage = RecognitionStage(backend=..., matcher=..., config=RecognitionConfig.from_settings())
    stage.step(frame)   # one Frame (or None when no frame came): recognise, then do what is due

Faces are embedded only where the detector found one and only when they pass the quality
gates; the whole batch of a frame is matched against the roster in one matrix product.
Identity comes from the track's vote, never from a single frame. Database writes are
batched: an arrival is written within `check_seconds`, continuing presence (last seen,
last out) every `write_seconds` per employee, sightings are rate-limited (unknown faces:
one per track, at most `unknown_max` per camera and window); the absence
check skips employees seen since their last write. The absence check and the daily
maintenance run on the injected clock, so tests drive time without sleeping.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from attendance import presence as presence_services
from attendance.recognition.face_tracker import FaceTrack, FaceTracker
from attendance.recognition.matcher import Match
from attendance.recognition.quality import QualityGates

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from attendance.recognition.matcher import RosterMatcher, TemplateMatrix
    from cameras.frames import Frame
    from detection.backends.face.base import FaceBackend

log = logging.getLogger("ainvr.attendance")


@dataclass(frozen=True)
class RecognitionConfig:
    gates: QualityGates = field(default_factory=QualityGates)
    vote_window: int = 7
    vote_min: int = 3
    track_iou: float = 0.3
    track_max_age_seconds: float = 2.0
    absence_seconds: int = 60
    sighting_seconds: int = 5
    unknown_max: int = 10  # unknown-face events per camera in any `unknown_window_seconds`
    unknown_window_seconds: int = 600
    retention_days: int = 90
    check_seconds: float = 1.0  # how often arrivals are written and absences checked
    write_seconds: float = 5.0  # how often a present employee's last seen / last out is written

    @classmethod
    def from_settings(cls, **overrides: Any) -> RecognitionConfig:
        from django.conf import settings

        values: dict[str, Any] = {
            "gates": QualityGates.from_settings(),
            "vote_window": settings.ATTENDANCE_VOTE_WINDOW,
            "vote_min": settings.ATTENDANCE_VOTE_MIN,
            "track_iou": settings.ATTENDANCE_TRACK_IOU,
            "track_max_age_seconds": settings.ATTENDANCE_TRACK_MAX_AGE_SECONDS,
            "absence_seconds": settings.ATTENDANCE_ABSENCE_SECONDS,
            "sighting_seconds": settings.ATTENDANCE_SIGHTING_SECONDS,
            "unknown_max": settings.ATTENDANCE_UNKNOWN_FACES_MAX,
            "unknown_window_seconds": settings.ATTENDANCE_UNKNOWN_FACES_WINDOW_SECONDS,
            "retention_days": settings.ATTENDANCE_EVENT_RETENTION_DAYS,
        }
        values.update(overrides)
        # Another host's worker reads our last_seen: keep it well inside the absence threshold.
        values.setdefault("write_seconds", min(5.0, values["absence_seconds"] / 3))
        return cls(**values)


@dataclass
class _Pending:
    """What one employee did since the last flush."""

    camera_id: int | None
    last_at: datetime
    similarity: float | None
    days: dict[date, tuple[datetime, datetime]] = field(default_factory=dict)

    def widen(self, at: datetime, camera_id: int | None, similarity: float | None) -> None:
        day = presence_services.local_date(at)
        first, last = self.days.get(day, (at, at))
        self.days[day] = (min(first, at), max(last, at))
        if at >= self.last_at:
            self.last_at, self.camera_id = at, camera_id
        if similarity is not None:
            self.similarity = max(self.similarity or 0.0, similarity)


@dataclass(frozen=True)
class FaceResult:
    """One face of one frame, as the stage saw it."""

    box: tuple[float, float, float, float]
    refusal: str | None
    match: Match | None
    track: FaceTrack


def face_snapshot(
    image: npt.NDArray[np.uint8], box: Sequence[float], *, margin: float = 0.4, quality: int = 85
) -> bytes | None:
    """A JPEG of the face with some context around it."""
    import cv2

    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    right, bottom = min(width, int(x2 + pad_x)), min(height, int(y2 + pad_y))
    if right <= left or bottom <= top:
        return None
    ok, data = cv2.imencode(".jpg", image[top:bottom, left:right], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else None


class RecognitionStage:
    def __init__(
        self,
        *,
        backend: FaceBackend,
        matcher: RosterMatcher | TemplateMatrix,
        config: RecognitionConfig | None = None,
        clock: Callable[[], datetime] = timezone.now,
        camera_ids: set[int] | None = None,
    ):
        self.backend = backend
        self.matcher = matcher
        self.config = config or RecognitionConfig()
        self.clock = clock
        self.camera_ids = camera_ids  # None: every camera whose frames arrive
        self.trackers: dict[int, FaceTracker] = {}
        self._pending: dict[int, _Pending] = {}
        # (camera, "employee", id) or (camera, "track", id) -> time of its last sighting row
        self._last_sighting: dict[tuple[int, str, int], datetime] = {}
        self._unknown_times: dict[int, deque[datetime]] = {}  # camera -> its recent unknown-face events
        self._checked_at: datetime | None = None
        self._written_at: dict[int, datetime] = {}  # employee -> last presence write (clock time)
        self._maintained_on: date | None = None
        self.frames = 0
        self.faces = 0
        self.embedded = 0

    # --- per frame -----------------------------------------------------------------
    def step(self, frame: Frame | None = None) -> bool:
        """Recognise `frame` (when given and for one of our cameras), then run what is due.
        Returns True when a frame was processed."""
        processed = False
        if frame is not None and (self.camera_ids is None or frame.camera_id in self.camera_ids):
            self.process(frame)
            processed = True
        self.tick()
        return processed

    def process(self, frame: Frame) -> list[FaceResult]:
        self.frames += 1
        image = frame.upright()  # faces of a camera mounted on its side are found upright
        faces = self.backend.detect(image)
        self.faces += len(faces)
        refusals = [self.config.gates.check(image, face.box)[0] for face in faces]
        usable = [face for face, refusal in zip(faces, refusals, strict=True) if refusal is None]
        matches = iter(self.matcher.match(self.backend.embed_many(image, usable)) if usable else [])
        self.embedded += len(usable)
        observations = [
            (face.box, next(matches) if refusal is None else None)
            for face, refusal in zip(faces, refusals, strict=True)
        ]
        tracker = self._tracker(frame.camera_id)
        tracks = tracker.update(frame.captured_at, observations)
        for track in tracks:
            self._after_observation(track, frame, image)
        gone = [k for k in self._last_sighting if k[:2] == (frame.camera_id, "track") and k[2] not in tracker.tracks]
        for key in gone:
            del self._last_sighting[key]
        return [
            FaceResult(box=obs[0], refusal=refusal, match=obs[1], track=track)
            for obs, refusal, track in zip(observations, refusals, tracks, strict=True)
        ]

    def _tracker(self, camera_id: int) -> FaceTracker:
        tracker = self.trackers.get(camera_id)
        if tracker is None:
            tracker = self.trackers[camera_id] = FaceTracker(
                iou_threshold=self.config.track_iou,
                max_age_seconds=self.config.track_max_age_seconds,
                window=self.config.vote_window,
                min_votes=self.config.vote_min,
            )
        return tracker

    def _after_observation(self, track: FaceTrack, frame: Frame, image: npt.NDArray[np.uint8]) -> None:
        if not track.decided:
            return
        at, camera_id = frame.captured_at, frame.camera_id
        employee_id = track.employee_id
        similarity = track.best_similarity if employee_id else None
        if employee_id is not None:
            pending = self._pending.get(employee_id)
            if pending is None:
                pending = self._pending[employee_id] = _Pending(camera_id=camera_id, last_at=at, similarity=None)
            pending.widen(at, camera_id, similarity)
        # A known face: one sighting every few seconds per employee and camera. An unknown
        # one: one event per track (strangers cannot be told apart across tracks), and at
        # most `unknown_max` per camera in any window, each with a JPEG: a camera watching
        # people nobody enrolled wrote ~600 an hour.
        if employee_id is not None:
            key = (camera_id, "employee", employee_id)
            last = self._last_sighting.get(key)
            due = last is None or (at - last).total_seconds() >= self.config.sighting_seconds
        else:
            key = (camera_id, "track", track.track_id)
            due = key not in self._last_sighting and self._unknown_allowed(camera_id, at)
        if due:
            self._last_sighting[key] = at
            presence_services.record_sighting(
                employee_id=employee_id,
                camera_id=camera_id,
                at=at,
                similarity=similarity,
                # Strangers are what security wants to see; known faces need no picture.
                snapshot=face_snapshot(image, track.box) if employee_id is None else None,
            )

    def _unknown_allowed(self, camera_id: int, at: datetime) -> bool:
        """True (and counted) when the camera may write one more unknown-face event at `at`."""
        recent = self._unknown_times.setdefault(camera_id, deque())
        while recent and (at - recent[0]).total_seconds() >= self.config.unknown_window_seconds:
            recent.popleft()
        if len(recent) >= self.config.unknown_max:
            return False
        recent.append(at)
        return True

    # --- on the clock ---------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        today = presence_services.local_date(now)
        if self._maintained_on != today:
            self.maintain(now)
            self._maintained_on = today
        if self._checked_at is None or (now - self._checked_at).total_seconds() >= self.config.check_seconds:
            self._checked_at = now
            self.flush(force=False)
            # Employees seen since their last write are here, whatever the database says.
            alerts = presence_services.mark_absences(
                now=now, threshold_seconds=self.config.absence_seconds, exclude=set(self._pending)
            )
            for alert in alerts:
                self._written_at.pop(alert.employee_id, None)  # their return is written at once

    def flush(self, *, force: bool = True) -> None:
        """Write what seen employees did since their last write: all of them when `force`,
        else arrivals and those last written `write_seconds` ago or more."""
        now = self.clock()
        for employee_id in list(self._pending):
            written = self._written_at.get(employee_id)
            if not force and written is not None and (now - written).total_seconds() < self.config.write_seconds:
                continue
            seen = self._pending.pop(employee_id)
            try:
                presence_services.record_presence(
                    employee_id=employee_id, camera_id=seen.camera_id, days=seen.days, similarity=seen.similarity
                )
                self._written_at[employee_id] = now
            except Exception:
                # An employee deleted since the roster was loaded: the matcher reloads soon.
                log.warning("could not record presence of employee %s", employee_id, exc_info=True)

    def maintain(self, now: datetime) -> int:
        """Daily upkeep (at start-up and at each local midnight): purge old events."""
        purged = presence_services.purge_events(now=now, keep_days=self.config.retention_days)
        if purged:
            log.info("purged %d attendance events older than %d days", purged, self.config.retention_days)
        return purged
