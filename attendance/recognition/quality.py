"""Quality gates: a face is only embedded (or enrolled) when it is big, sharp and lit enough.

Sharpness is the variance of the Laplacian of the face crop, measured after scaling the
crop to a fixed size so a large face and a small one are judged alike. Brightness is the
mean grey level of the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The crop is scaled to this many pixels wide before measuring sharpness.
MEASURE_SIDE = 112


class Refusal:
    """Why a face is not usable; the strings are shown to admins as they are."""

    NO_FACE = "no face found"
    SEVERAL_FACES = "several faces found; the photo must show exactly one"
    TOO_SMALL = "face too small"
    TOO_BLURRED = "face too blurred"
    TOO_DARK = "face too dark"
    TOO_BRIGHT = "face too bright (overexposed)"


@dataclass(frozen=True)
class QualityGates:
    min_face_px: int = 40
    min_sharpness: float = 20.0
    min_brightness: float = 40.0
    max_brightness: float = 225.0

    @classmethod
    def from_settings(cls, *, enrolment: bool = False) -> QualityGates:
        from django.conf import settings

        return cls(
            min_face_px=settings.ATTENDANCE_ENROL_MIN_FACE_PX if enrolment else settings.ATTENDANCE_MIN_FACE_PX,
            min_sharpness=settings.ATTENDANCE_MIN_SHARPNESS,
            min_brightness=settings.ATTENDANCE_MIN_BRIGHTNESS,
            max_brightness=settings.ATTENDANCE_MAX_BRIGHTNESS,
        )

    def check(self, image: np.ndarray, box) -> tuple[str | None, float]:
        """(refusal or None, quality score). The score (sharpness, capped) ranks usable faces."""
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        if min(x2 - x1, y2 - y1) < self.min_face_px:
            return Refusal.TOO_SMALL, 0.0
        sharpness, brightness = measure(image, box)
        if brightness < self.min_brightness:
            return Refusal.TOO_DARK, 0.0
        if brightness > self.max_brightness:
            return Refusal.TOO_BRIGHT, 0.0
        if sharpness < self.min_sharpness:
            return Refusal.TOO_BLURRED, 0.0
        return None, round(min(sharpness, 1000.0), 1)


def measure(image: np.ndarray, box) -> tuple[float, float]:
    """(Laplacian variance, mean brightness) of the face crop."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
    crop = image[y1:y2, x1:x2]
    if crop.size == 0:
        return 0.0, 0.0
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    scale = MEASURE_SIDE / grey.shape[1]
    grey = cv2.resize(grey, (MEASURE_SIDE, max(1, int(round(grey.shape[0] * scale)))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var()), float(grey.mean())
