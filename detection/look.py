"""What the inference stage gives the detector for one frame (the whole frame, or crops
around what moves, turned upright), and how the boxes found come back into the frame as
the camera sends it; the per-class size and shape rules applied to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cameras.frames import Frame, box_from_upright
from detection.backends import Detection, class_wise_nms
from detection.motion import FULL_FRAME, Box, region_pixels

if TYPE_CHECKING:  # the type only: this module runs without Django's models (bench.accuracy)
    from detection.selectors import CameraAI

# Two crops that both hold a person give two boxes of it: one is kept.
CROP_NMS_IOU = 0.5
# A box within this share of a crop's side from its edge touches that edge.
CUT_MARGIN = 0.01


@dataclass(frozen=True)
class Look:
    """A frame waiting for the detector, and the parts of it to look at (normalised): the
    whole frame, or crops around what moves."""

    frame: Frame
    regions: tuple[Box, ...] = (FULL_FRAME,)

    @property
    def whole(self) -> bool:
        return self.regions == (FULL_FRAME,)

    def images(self) -> list:
        """What the detector is given: each region, turned upright (the camera's rotation)."""
        if self.whole:
            return [self.frame.upright()]
        height, width = self.frame.image.shape[:2]
        crops = []
        for region in self.regions:
            x1, y1, x2, y2 = region_pixels(region, width, height)
            crops.append(self.frame.upright(self.frame.image[y1:y2, x1:x2]))
        return crops

    def to_frame(self, found: list[list[Detection]]) -> list[Detection]:
        """The boxes found in each upright region, as boxes of the whole frame as the camera
        sends it; an object seen in two overlapping crops is kept once."""
        merged = [d for region, boxes in zip(self.regions, found, strict=True) for d in self._place(region, boxes)]
        if len(self.regions) == 1:
            return merged
        return merge_duplicates(merged)

    def _place(self, region: Box, found: list[Detection]) -> list[Detection]:
        if self.frame.rotation:
            found = [Detection(d.label, d.confidence, box_from_upright(d.box, self.frame.rotation)) for d in found]
        if region == FULL_FRAME:
            return found
        height, width = self.frame.image.shape[:2]
        px1, py1, px2, py2 = region_pixels(region, width, height)
        sx, sy = (px2 - px1) / width, (py2 - py1) / height
        ox, oy = px1 / width, py1 / height
        # A box on a side where the crop cuts into the frame is a piece of something larger
        # (a crop across a standing man finds a "person" the size of the crop): the whole
        # frame, or a crop that holds all of it, judges that object.
        cut = (px1 > 0, py1 > 0, px2 < width, py2 < height)
        found = [d for d in found if not _touches_cut(d.box, cut)]
        return [
            Detection(
                d.label,
                d.confidence,
                (
                    round(ox + d.box[0] * sx, 5),
                    round(oy + d.box[1] * sy, 5),
                    round(ox + d.box[2] * sx, 5),
                    round(oy + d.box[3] * sy, 5),
                ),
            )
            for d in found
        ]


def _touches_cut(box, cut: tuple[bool, bool, bool, bool]) -> bool:
    near = (box[0] <= CUT_MARGIN, box[1] <= CUT_MARGIN, box[2] >= 1 - CUT_MARGIN, box[3] >= 1 - CUT_MARGIN)
    return any(c and n for c, n in zip(cut, near, strict=True))


def merge_duplicates(found: list[Detection]) -> list[Detection]:
    """One box per object where looks overlapped (two crops, or a crop and a box kept from
    before): the higher-scored of boxes of one class that overlap by CROP_NMS_IOU."""
    if len(found) < 2:
        return found
    labels = {label: i for i, label in enumerate(sorted({d.label for d in found}))}
    keep = class_wise_nms(
        np.array([d.box for d in found], np.float32).reshape(-1, 4),
        np.array([d.confidence for d in found], np.float32),
        np.array([labels[d.label] for d in found], np.int64),
        CROP_NMS_IOU,
    )
    return [found[i] for i in keep]


def share_inside(box, region: Box) -> float:
    """The share of a box's area that lies in a region (both normalised)."""
    w = min(box[2], region[2]) - max(box[0], region[0])
    h = min(box[3], region[3]) - max(box[1], region[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return max(0.0, w) * max(0.0, h) / area if area > 0 else 0.0


def crop_side(detector) -> int:
    """The smallest motion crop for a detector: half its input side, so what moves is shown to
    it at least twice as large as the camera sends it (bench/README.md, motion crops)."""
    size = getattr(detector, "input_size", None)
    return (min(size) if size else 512) // 2


def inside(box, region: Box) -> bool:
    """Whether a box's centre lies in a region (both normalised)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def fits(ai: CameraAI, detection: Detection, width: int, height: int, rotation: int) -> bool:
    """Whether a box has a size and shape its class may have on this camera (its shape as
    seen upright: a standing person on a camera turned 90 degrees is a lying box)."""
    rule = ai.filter_for(detection.label)
    if rule is None:
        return True
    if rotation in (90, 270):
        x1, y1, x2, y2 = detection.box
        return rule.keeps((y1, x1, y2, x2), height, width)
    return rule.keeps(detection.box, width, height)
