"""A camera's per-class rules (cameras.ObjectFilter) as the inference stage applies them:
plain data, picklable, no database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassFilter:
    label: str
    threshold: float | None = None  # None: the camera's
    min_frames: int | None = None  # None: the camera's
    min_area: float = 0.0  # share of the frame, 0..1
    max_area: float = 1.0
    min_ratio: float = 0.0  # box width / height, in pixels
    max_ratio: float = 100.0

    def keeps(self, box: tuple[float, float, float, float], width: int, height: int) -> bool:
        """Whether a box (normalised x1, y1, x2, y2 of a width x height frame) has a size and
        shape this class may have."""
        w, h = box[2] - box[0], box[3] - box[1]
        if not self.min_area <= w * h <= self.max_area:
            return False
        ratio = (w * width) / (h * height) if h > 0 else float("inf")
        return self.min_ratio <= ratio <= self.max_ratio
