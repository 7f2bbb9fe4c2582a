"""Track ids across frames with ByteTrack, from Roboflow's `trackers` library.

ByteTrack (Zhang et al., ECCV 2022) associates boxes frame to frame with a Kalman filter
and IoU, and keeps low-confidence boxes in a second association pass, which is what keeps
an id through a partial occlusion. `trackers` (Apache-2.0, maintained, benchmarked on
MOT17) runs it on numpy and scipy, so the default install needs no torch; ultralytics'
own ByteTrack, used before, pulled torch and CUDA into every install (issue 18).

The library is loaded on the first ``update``, never at import time; this module is under
detection/backends/ with the other model and tracker libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


class ByteTracker:
    """One camera's tracker.

    ``high`` splits confident boxes (first association, may start a track) from weak ones
    (second association only); boxes under ``low`` are not tracked at all; ``new`` is the
    score a box needs to start a track; a track is reported from its ``confirm_after``-th
    frame; ``buffer`` is how many updates a lost track is kept to be found again; ``min_iou``
    the overlap a box needs with a track's predicted box to continue it."""

    def __init__(
        self,
        *,
        high: float = 0.25,
        low: float = 0.1,
        new: float = 0.25,
        buffer: int = 30,
        min_iou: float = 0.2,
        confirm_after: int = 2,
    ):
        self.high, self.low, self.new = high, low, new
        self.buffer, self.min_iou, self.confirm_after = buffer, min_iou, confirm_after
        self._tracker = None

    def _ensure(self):
        if self._tracker is None:
            from trackers import ByteTrackTracker

            self._tracker = ByteTrackTracker(
                lost_track_buffer=self.buffer,
                frame_rate=30.0,  # with no timestamps the buffer counts updates, whatever the rate
                track_activation_threshold=self.new,
                minimum_consecutive_frames=self.confirm_after,
                minimum_iou_threshold=self.min_iou,
                high_conf_det_threshold=self.high,
            )
        return self._tracker

    def update(self, detections: Sequence[Detection], width: int, height: int) -> list[TrackedObject]:
        """Feed the detections of one frame (normalised boxes of a width x height image);
        get back those that belong to a confirmed track, with its id. Call it for every
        frame the detector looked at, in order, even when nothing was found."""
        import supervision as sv

        tracker = self._ensure()
        kept = [d for d in detections if d.confidence >= self.low]
        n = len(kept)
        xyxy = np.zeros((n, 4), np.float32)
        for i, d in enumerate(kept):
            x1, y1, x2, y2 = d.box
            # Pixels, not 0..1: the Kalman filter's noise is scaled by the box size and its
            # aspect ratio must be the real one.
            xyxy[i] = (x1 * width, y1 * height, x2 * width, y2 * height)
        boxes = sv.Detections(
            xyxy=xyxy,
            confidence=np.array([d.confidence for d in kept], np.float32),
            class_id=np.zeros(n, int),
            data={"index": np.arange(n)},
        )
        result = tracker.update(boxes)
        found = []
        if len(result):
            for index, track_id in zip(result.data["index"], result.tracker_id, strict=True):
                if track_id >= 0:  # -1: a box on no track, or on one not confirmed yet
                    d = kept[int(index)]
                    found.append(TrackedObject(int(track_id) + 1, d.label, d.confidence, d.box))
        return found

    def reset(self) -> None:
        if self._tracker is not None:
            self._tracker.reset()
