"""Cheap motion detection that decides whether a frame is worth a detector call.

Per camera, on a small grey copy of the frame (160 px wide by default): a running
average of the scene is the background; pixels that differ from it by more than a
threshold are "moving"; moving blobs smaller than a minimum area (sensor noise, leaves,
rain) are ignored. A static scene costs a resize, a blur and a few array operations per
frame, and no inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

Box = tuple[float, float, float, float]
FULL_FRAME: Box = (0.0, 0.0, 1.0, 1.0)
# A gate that sees a far person move, which the default gate does not, at a few times the
# default's cost per frame (bench/README.md, "Motion crops"). Used with motion crops.
FAR_GATE: dict[str, Any] = {"width": 480, "min_area": 0.0003}
_DILATE = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Motion:
    """What the gate saw in one frame. ``regions`` are normalised (x1, y1, x2, y2) boxes
    around the moving blobs; ``changed`` is the fraction of the frame that moved."""

    moving: bool
    regions: list[Box] = field(default_factory=list)
    changed: float = 0.0
    reason: str = ""

    def union(self, pad: float = 0.05) -> Box | None:
        """One box around every region, padded, or None when nothing moves."""
        if not self.regions:
            return None
        x1 = min(r[0] for r in self.regions) - pad
        y1 = min(r[1] for r in self.regions) - pad
        x2 = max(r[2] for r in self.regions) + pad
        y2 = max(r[3] for r in self.regions) + pad
        return (max(0.0, x1), max(0.0, y1), min(1.0, x2), min(1.0, y2))


class MotionGate:
    """Motion detector for one camera. Feed every frame in order with ``check(image)``.

    - ``width``: the grey copy's width in pixels (height keeps the aspect ratio).
    - ``threshold``: grey-level difference (0..255) from the background that counts as change.
    - ``min_area``: the smallest moving blob, as a fraction of the frame (0.002 of 160x90 is
      about 29 pixels: a person far away, not a flickering pixel).
    - ``alpha``: how fast the background follows the scene (0.05: a parked car melts into
      it within about a minute at 1 fps).
    - ``max_changed``: above this fraction of the frame changing at once, the camera moved or
      the lighting switched (IR on): the background is restarted and the frame counts as
      motion once, so the detector looks at the new scene.
    """

    def __init__(
        self,
        *,
        width: int = 160,
        threshold: int = 25,
        min_area: float = 0.002,
        alpha: float = 0.05,
        blur: int = 5,
        max_changed: float = 0.6,
    ):
        if width < 16:
            raise ValueError("width must be at least 16 pixels")
        if not 0 < threshold < 256:
            raise ValueError("threshold must be between 1 and 255")
        if not 0.0 <= min_area < 1.0 or not 0.0 < alpha <= 1.0 or not 0.0 < max_changed <= 1.0:
            raise ValueError("min_area, alpha and max_changed are fractions")
        self.width = int(width)
        self.threshold = int(threshold)
        self.min_area = float(min_area)
        self.alpha = float(alpha)
        self.blur = int(blur) | 1  # Gaussian kernels are odd
        self.max_changed = float(max_changed)
        self._background: np.ndarray | None = None
        self.frames = 0
        self.moving_frames = 0
        self._ignored: tuple = ()
        self._keep: np.ndarray | None = None

    def reset(self) -> None:
        self._background = None

    def ignore(self, areas=()) -> None:
        """Where motion is not looked for (motion masks, cameras.zones.Area: a timestamp, trees,
        a road). The background still learns there."""
        self._ignored = tuple(areas)
        self._keep = None

    def _keep_mask(self, shape) -> np.ndarray | None:
        if not self._ignored:
            return None
        if self._keep is None or self._keep.shape != shape:
            self._keep = keep_mask(self._ignored, shape)
        return self._keep

    def _small_grey(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        small_h = max(1, round(height * self.width / width))
        small = cv2.resize(image, (self.width, small_h), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return cv2.GaussianBlur(grey, (self.blur, self.blur), 0)

    def check(self, image: np.ndarray) -> Motion:
        """Compare a BGR (or grey) frame with the background, then let the background
        learn from it."""
        self.frames += 1
        grey = self._small_grey(image)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
            self.moving_frames += 1
            # Nothing is known about a new scene: let the detector have a look once.
            return Motion(True, [(0.0, 0.0, 1.0, 1.0)], 1.0, "first frame")

        diff = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        _, mask = cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)
        keep = self._keep_mask(mask.shape)
        if keep is not None:
            mask = cv2.bitwise_and(mask, keep)
        changed = float(np.count_nonzero(mask)) / mask.size
        if changed > self.max_changed:
            self._background = grey.astype(np.float32)
            self.moving_frames += 1
            return Motion(True, [(0.0, 0.0, 1.0, 1.0)], changed, "scene changed")

        cv2.accumulateWeighted(grey, self._background, self.alpha)
        if changed * mask.size < max(1.0, self.min_area * mask.size):
            return Motion(False, [], changed)

        regions = moving_regions(mask, self.min_area)
        if not regions:
            return Motion(False, [], changed)
        self.moving_frames += 1
        return Motion(True, regions, changed, "motion")


def keep_mask(areas, shape) -> np.ndarray:
    """255 where change counts, 0 inside the areas (motion masks), for an image of `shape`."""
    keep = np.full(shape, 255, np.uint8)
    for area in areas:
        cv2.fillPoly(keep, [area.pixel_outline(shape[1], shape[0])], 0)
    return keep


def moving_regions(mask: np.ndarray, min_area: float) -> list[Box]:
    """Normalised boxes around the blobs of a binary change mask that cover at least
    `min_area` of it (dilated first, so the parts of one walking person make one blob), the
    largest first."""
    mask = cv2.dilate(mask, _DILATE, iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    small_h, small_w = mask.shape
    min_pixels = min_area * mask.size
    regions: list[Box] = []
    for contour in contours:
        if cv2.contourArea(contour) < min_pixels:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        regions.append((x / small_w, y / small_h, (x + w) / small_w, (y + h) / small_h))
    regions.sort(key=lambda r: (r[2] - r[0]) * (r[3] - r[1]), reverse=True)
    return regions


def motion_crop(motion: Motion, *, min_side: float = 0.4, max_area: float = 0.5) -> Box:
    """The part of the frame to send to the detector: the moving regions, padded and at
    least ``min_side`` of the frame each way (a detector needs some context). The whole
    frame when the crop would cover more than ``max_area`` of it anyway."""
    union = motion.union(pad=0.05)
    if union is None:
        return FULL_FRAME
    x1, y1, x2, y2 = union
    sides = []
    for lo, hi in ((x1, x2), (y1, y2)):
        if hi - lo < min_side:
            centre = (lo + hi) / 2
            lo, hi = centre - min_side / 2, centre + min_side / 2
            shift = max(0.0, -lo) - max(0.0, hi - 1.0)  # slide back inside the frame
            lo, hi = lo + shift, hi + shift
        sides.append((max(0.0, lo), min(1.0, hi)))
    (x1, x2), (y1, y2) = sides
    if (x2 - x1) * (y2 - y1) > max_area:
        return FULL_FRAME
    return (x1, y1, x2, y2)


def region_pixels(region: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """A normalised region as pixel bounds (x1, y1, x2, y2) of a width x height image,
    never empty."""
    x1, y1, x2, y2 = region
    px1, py1 = int(x1 * width), int(y1 * height)
    return px1, py1, max(px1 + 1, round(x2 * width)), max(py1 + 1, round(y2 * height))


def motion_crops(
    motion: Motion, width: int, height: int, *, side: int = 512, max_crops: int = 2, max_cover: float = 0.5
) -> tuple[Box, ...]:
    """Square crops of a width x height frame around what moves, at least `side` pixels: a
    person 60 px tall in a 1920 px wide frame is 16 px once the whole frame is squeezed to a
    512 px detector input, and 120 px in a 256 px crop scaled up to it. Each moving region
    gets a square of `side` pixels (more when the region is larger, never more than the frame)
    centred on it; crops that overlap become one around both. The whole frame instead when
    something other than local motion happened, or when the crops would be more than
    `max_crops` or cover more than `max_cover` of the frame (one whole-frame call is then
    cheaper and sees as much)."""
    if motion.reason != "motion" or not motion.regions:
        return (FULL_FRAME,)
    groups = [[r] for r in motion.regions]
    while True:
        crops = [_square_around(group, width, height, side) for group in groups]
        pair = next(
            ((i, j) for i in range(len(crops)) for j in range(i + 1, len(crops)) if _overlap(crops[i], crops[j])),
            None,
        )
        if pair is None:
            break
        i, j = pair
        groups[i] += groups.pop(j)
    cover = sum((c[2] - c[0]) * (c[3] - c[1]) for c in crops)
    if len(crops) > max_crops or cover > max_cover:
        return (FULL_FRAME,)
    return tuple(crops)


def _square_around(regions: list[Box], width: int, height: int, side: int) -> Box:
    """A crop holding every region with a margin of a quarter of their size, square where the
    frame allows, at least `side` pixels (normalised to the frame)."""
    x1 = min(r[0] for r in regions) * width
    y1 = min(r[1] for r in regions) * height
    x2 = max(r[2] for r in regions) * width
    y2 = max(r[3] for r in regions) * height
    pad_x, pad_y = (x2 - x1) / 4, (y2 - y1) / 4
    want = max(side, x2 - x1 + 2 * pad_x, y2 - y1 + 2 * pad_y)
    bounds = []
    for lo, hi, limit in ((x1, x2, width), (y1, y2, height)):
        size = min(want, limit)
        centre = (lo + hi) / 2
        start = min(max(0.0, centre - size / 2), limit - size)  # slid back inside the frame
        bounds.append((start / limit, (start + size) / limit))
    (cx1, cx2), (cy1, cy2) = bounds
    return (cx1, cy1, cx2, cy2)


def _overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])
