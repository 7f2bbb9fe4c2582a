"""Skipping the detector on frames that did not change since the last detector call.

Offline analysis carries the last detections over to a frame that looks like the frame
they were found in: the same objects are there. So the reference is the last frame the
detector saw, not a running average of the scene (the live MotionGate's background): with
a background, an object that leaves shows little difference from it, and its detections
would be carried on after it has gone.
"""

from __future__ import annotations

import cv2
import numpy as np

from detection.motion import FULL_FRAME, Motion, keep_mask, moving_regions


class ChangeGate:
    """`changed(image)`: does the frame differ from the reference by more than `min_area`
    of its pixels (each by more than `threshold` grey levels, on a `width`-pixel copy)?
    `keep(image)` makes a frame the reference (call it for each frame sent to the detector)."""

    def __init__(self, *, width: int = 160, threshold: int = 25, min_area: float = 0.002, blur: int = 5):
        self.width, self.threshold, self.min_area, self.blur = width, threshold, min_area, blur | 1
        self._reference: np.ndarray | None = None
        self._ignored: tuple = ()
        self._keep: np.ndarray | None = None

    def ignore(self, areas=()) -> None:
        """The camera's motion masks: change there is not change (a clock, trees)."""
        self._ignored, self._keep = tuple(areas), None

    def _small_grey(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        small = cv2.resize(
            image, (self.width, max(1, round(height * self.width / width))), interpolation=cv2.INTER_AREA
        )
        return cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (self.blur, self.blur), 0)

    def changed(self, image: np.ndarray) -> bool:
        return self.check(image).moving

    def check(self, image: np.ndarray) -> Motion:
        """What changed since the reference: "motion" with the changed regions when a part of
        the frame did (crops can look there), otherwise a whole-frame reason or no change."""
        if self._reference is None:
            return Motion(True, [FULL_FRAME], 1.0, "first frame")
        grey = self._small_grey(image)
        if grey.shape != self._reference.shape:
            return Motion(True, [FULL_FRAME], 1.0, "scene changed")  # the resolution changed between recordings
        mask: np.ndarray = (cv2.absdiff(grey, self._reference) > self.threshold).astype(np.uint8) * 255
        if self._ignored:
            if self._keep is None or self._keep.shape != mask.shape:
                self._keep = keep_mask(self._ignored, mask.shape)
            mask = cv2.bitwise_and(mask, self._keep)
        moved = np.count_nonzero(mask)
        if moved <= max(1.0, self.min_area * grey.size):
            return Motion(False, [], moved / grey.size)
        # Scattered changes with no blob of min_area still count (as before crops): the whole frame.
        regions = moving_regions(mask, self.min_area)
        return Motion(True, regions or [FULL_FRAME], moved / grey.size, "motion" if regions else "scattered")

    def keep(self, image: np.ndarray) -> None:
        self._reference = self._small_grey(image)
