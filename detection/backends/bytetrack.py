"""Track ids across frames with ultralytics' ByteTrack.

ByteTrack (Zhang et al., ECCV 2022) associates boxes frame to frame with a Kalman filter
and IoU, and keeps low-confidence boxes in a second association pass, which is what keeps
an id through a partial occlusion. Using ultralytics' maintained implementation rather
than our own means the Kalman filter, the two-stage association and the lost-track
bookkeeping are the ones thousands of users run and fix.

ultralytics (and torch, which it imports) is loaded on the first ``update``, never at
import time; this module is under detection/backends/ because only this package may
import ultralytics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from detection.backends.base import Detection


@dataclass(frozen=True, slots=True)
class TrackedObject:
    """A detection with the id of the track it belongs to (stable while the object stays
    in view; ids are per camera and start at 1)."""

    track_id: int
    label: str
    confidence: float
    box: tuple[float, float, float, float]

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "box": list(self.box), "track_id": self.track_id}


class _Boxes:
    """The minimum of ultralytics' ``Boxes`` that BYTETracker reads: conf, cls, xywh,
    len() and boolean indexing."""

    def __init__(self, xywh: np.ndarray, conf: np.ndarray, cls: np.ndarray):
        self.xywh, self.conf, self.cls = xywh, conf, cls

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> _Boxes:
        return _Boxes(self.xywh[index], self.conf[index], self.cls[index])


class ByteTracker:
    """One camera's tracker. Options are ByteTrack's (ultralytics' bytetrack.yaml):
    ``high``/``low`` split confident and weak boxes, ``new`` is the score a new track needs,
    ``buffer`` how many updates a lost track is kept to be found again, ``match`` the
    association threshold."""

    def __init__(
        self,
        *,
        high: float = 0.25,
        low: float = 0.1,
        new: float = 0.25,
        buffer: int = 30,
        match: float = 0.8,
        fuse_score: bool = True,
    ):
        self.args = SimpleNamespace(
            tracker_type="bytetrack",
            track_high_thresh=high,
            track_low_thresh=low,
            new_track_thresh=new,
            track_buffer=buffer,
            match_thresh=match,
            fuse_score=fuse_score,
        )
        self._tracker = None
        self._class_ids: dict[str, int] = {}

    def _ensure(self):
        if self._tracker is None:
            from detection.backends.ultralytics import prepare_offline_environment

            prepare_offline_environment()  # ultralytics reads these when first imported
            from ultralytics.trackers.byte_tracker import BYTETracker

            self._tracker = BYTETracker(self.args)
        return self._tracker

    def update(self, detections: Sequence[Detection], width: int, height: int) -> list[TrackedObject]:
        """Feed the detections of one frame (normalised boxes of a width x height image);
        get back those that belong to a confirmed track, with its id. Call it for every
        frame the detector looked at, in order, even when nothing was found."""
        tracker = self._ensure()
        n = len(detections)
        xywh = np.zeros((n, 4), np.float32)
        conf = np.zeros(n, np.float32)
        cls = np.zeros(n, np.float32)
        for i, d in enumerate(detections):
            x1, y1, x2, y2 = d.box
            # Pixels, not 0..1: ByteTrack's Kalman noise is scaled by the box height and its
            # aspect ratio must be the real one.
            xywh[i] = ((x1 + x2) / 2 * width, (y1 + y2) / 2 * height, (x2 - x1) * width, (y2 - y1) * height)
            conf[i] = d.confidence
            cls[i] = self._class_ids.setdefault(d.label, len(self._class_ids))
        rows = tracker.update(_Boxes(xywh, conf, cls))
        found = []
        for row in rows:
            index = int(row[7])
            if 0 <= index < n:
                d = detections[index]
                found.append(TrackedObject(int(row[4]), d.label, d.confidence, d.box))
        return found

    def reset(self) -> None:
        if self._tracker is not None:
            self._tracker.reset()
