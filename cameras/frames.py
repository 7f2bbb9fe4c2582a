"""A picture from a camera as the AI stages get it, and turning it upright.

A camera mounted on its side sends its picture turned: models look at the upright picture and
their boxes come back into the picture as sent, so overlays fit the video."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class Frame:
    """One picture for the detector: BGR, scaled so its longer side is at most `max_side`,
    as the camera sends it. `rotation` (degrees clockwise) turns it upright for AI (a
    camera mounted on its side): models look at ``upright(image)`` and their boxes come
    back into this picture with ``box_from_upright``, so overlays fit the video."""

    camera_id: int
    captured_at: datetime
    image: np.ndarray
    source_width: int
    source_height: int
    rotation: int = 0

    def upright(self, image: np.ndarray | None = None) -> np.ndarray:
        """`image` (the frame's picture, or a crop of it) turned upright."""
        return rotate(self.image if image is None else image, self.rotation)


def rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """`image` turned `degrees` clockwise (0, 90, 180 or 270)."""
    if degrees == 0:
        return image
    import cv2

    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(image, codes[degrees])


def box_from_upright(box, degrees: int) -> tuple[float, float, float, float]:
    """A normalised (x1, y1, x2, y2) box of the picture turned `degrees` clockwise, as a box
    of the picture before the turn."""
    x1, y1, x2, y2 = box
    if degrees == 90:  # a point (x, y) of the original is at (1 - y, x) once turned
        return (y1, 1 - x2, y2, 1 - x1)
    if degrees == 180:
        return (1 - x2, 1 - y2, 1 - x1, 1 - y1)
    if degrees == 270:  # (x, y) is at (y, 1 - x)
        return (1 - y2, x1, 1 - y1, x2)
    return (x1, y1, x2, y2)
