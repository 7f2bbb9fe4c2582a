"""Zones and masks drawn over a camera's picture: checking an outline, and telling which of
them a detected object stands in.

Points are normalised ([x, y], 0..1 of the picture's width and height), so a change of
resolution keeps them. An object stands where the bottom-centre of its box is: its feet,
or a car's front wheels on the ground, which is what a zone drawn on the ground means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from shapely.validation import explain_validity

MIN_POINTS, MAX_POINTS = 3, 100
# The smallest area an outline may enclose (of the picture): 0.05 % is 23x23 pixels of 1080p.
MIN_AREA = 0.0005


def check_points(value) -> list[list[float]]:
    """The outline as [[x, y], ...] of floats, or ValidationError saying what is wrong with it:
    not 3 to 100 points, a point outside the picture, an outline that crosses itself or
    encloses (almost) nothing."""
    if not isinstance(value, list | tuple):
        raise ValidationError("Give the outline as a list of [x, y] points.", code="points")
    if not MIN_POINTS <= len(value) <= MAX_POINTS:
        raise ValidationError(f"An outline has {MIN_POINTS} to {MAX_POINTS} points; this one has {len(value)}.")
    points = []
    for n, point in enumerate(value, start=1):
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in point)
        ):
            raise ValidationError(f"Point {n} is not a pair of numbers [x, y].", code="points")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValidationError(
                f"Point {n} ({x:g}, {y:g}) is outside the picture: x and y go from 0 to 1.", code="points"
            )
        points.append([round(x, 5), round(y, 5)])
    polygon = shapely.Polygon(points)
    # A bow tie's two halves cancel out in its (signed) area: what it covers is what make_valid finds.
    covered = polygon if polygon.is_valid else shapely.make_valid(polygon)
    if covered.area < MIN_AREA:
        raise ValidationError("The outline encloses (almost) nothing: draw an area.", code="points")
    if not polygon.is_valid:
        reason = explain_validity(polygon)  # e.g. "Self-intersection[0.5 0.5]"
        where = reason.partition("[")[2].rstrip("]").split()
        at = f" near ({float(where[0]):.2f}, {float(where[1]):.2f})" if len(where) == 2 else ""
        raise ValidationError(f"The outline crosses itself{at}: draw it without crossing.", code="points")
    return points


def bottom_centre(box) -> tuple[float, float]:
    """Where an object (a normalised x1, y1, x2, y2 box) stands."""
    return (box[0] + box[2]) / 2, box[3]


@dataclass(frozen=True)
class Area:
    """A zone or mask as the live stage uses it. `classes` None: every class."""

    name: str
    kind: str
    points: tuple[tuple[float, float], ...]
    classes: frozenset[str] | None = None
    min_frames: int = 1
    loiter_seconds: int | None = None
    alert: bool = False

    @classmethod
    def of(cls, zone) -> Area:
        """From a cameras.models.Zone (or anything with its fields)."""
        return cls(
            name=zone.name,
            kind=zone.kind,
            points=tuple((float(x), float(y)) for x, y in zone.points),
            classes=frozenset(zone.classes) if zone.classes else None,
            min_frames=zone.min_frames,
            loiter_seconds=zone.loiter_seconds,
            alert=zone.alert,
        )

    def pixel_outline(self, width: int, height: int):
        """The outline in pixels of a width x height picture (int32 N x 2), for drawing it
        on images (cv2.fillPoly)."""
        import numpy as np

        return np.round(np.asarray(self.points, dtype=np.float64) * [width, height]).astype(np.int32)


def areas(zones: Iterable) -> tuple[Area, ...]:
    return tuple(Area.of(z) for z in zones)


class AreaMap:
    """Which of a camera's areas each point of the picture lies in: one bit per area on a
    SIDE x SIDE grid laid over the picture, drawn once when the areas are read. Asking costs
    one lookup an object, however many points the outlines have (bench.zones); an outline's
    edge is placed to 1/SIDE of the picture (5 px of 1920x1080), and the map of a camera
    with up to 8 areas is SIDE x SIDE bytes."""

    SIDE = 400
    MAX_AREAS = 64

    def __init__(self, areas: tuple[Area, ...]):
        import cv2
        import numpy as np

        if len(areas) > self.MAX_AREAS:
            raise ValueError(f"at most {self.MAX_AREAS} zones and masks a camera")
        self.areas = areas
        self._grid = None
        if not areas:
            return
        sizes = ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32), (np.uint64, 64))
        dtype: type[np.unsignedinteger[Any]] = next(t for t, bits in sizes if len(areas) <= bits)
        self._grid = np.zeros((self.SIDE, self.SIDE), dtype)
        layer = np.zeros((self.SIDE, self.SIDE), np.uint8)
        for i, area in enumerate(areas):
            layer[:] = 0
            cv2.fillPoly(layer, [area.pixel_outline(self.SIDE, self.SIDE)], 1)
            self._grid |= layer.astype(dtype) << dtype(i)

    def inside(self, boxes, labels=None) -> list[tuple[bool, ...]]:
        """For each box (normalised x1, y1, x2, y2), whether the object stands in each area
        (the areas' order), of the areas' classes when `labels` are given."""
        if self._grid is None:
            return [()] * len(boxes)
        top = self.SIDE - 1
        rows = []
        for n, box in enumerate(boxes):
            x, y = bottom_centre(box)
            bits = int(self._grid[min(max(int(y * self.SIDE), 0), top), min(max(int(x * self.SIDE), 0), top)])
            label = None if labels is None else labels[n]
            rows.append(
                tuple(
                    bool(bits >> i & 1) and (label is None or area.classes is None or label in area.classes)
                    for i, area in enumerate(self.areas)
                )
            )
        return rows
