"""What zones and masks cost the live stage, per object per frame.

    python -m bench.zones [--objects 20] [--frames 2000]

For each frame the stage asks, of every detected object, whether it stands in an object
mask (CameraAI.masked) and which zones it is in (ZonePresence.see, one per track). Measured
here on boxes scattered over the picture, with outlines of 4 and of 100 points, against the
same loop with no zones (the baseline, in the same run). Target: under 20 microseconds an
object a frame with a camera's typical four zones and two masks.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import UTC, datetime, timedelta

import numpy as np


class _Zone:
    """What cameras.zones.Area.of reads (a cameras.models.Zone without the database)."""

    def __init__(self, name, kind, points, classes=()):
        self.name, self.kind, self.points, self.classes = name, kind, points, list(classes)
        self.min_frames, self.loiter_seconds, self.alert = 3, None, False


def outline(n: int, cx: float, cy: float, r: float) -> list[list[float]]:
    """A star-free, wobbly ring of n points around (cx, cy): a hand-drawn area."""
    return [
        [cx + r * (1 + 0.2 * math.sin(5 * a)) * math.cos(a), cy + r * (1 + 0.2 * math.sin(5 * a)) * math.sin(a)]
        for a in (2 * math.pi * i / n for i in range(n))
    ]


def run(zones, objects: int, frames: int) -> float:
    """Microseconds an object a frame for the stage's zone work: the object masks over the
    frame's detections, then each track's zones (as the stage and TrackEvents.observe do)."""
    from cameras.zones import areas
    from detection.backends import Detection
    from detection.selectors import CameraAI
    from detection.zone_presence import ZonePresence

    ai = CameraAI(1, "bench", True, frozenset({"person", "car"}), 0.5, True, areas=areas(zones))
    rng = np.random.default_rng(3)
    presences = [ZonePresence() for _ in range(objects)]
    zone_map = ai.zone_map
    t0 = datetime.now(UTC)
    detections = []
    for _ in range(frames):
        x, y = rng.random((2, objects)) * 0.8
        detections.append(
            [
                Detection("person", 0.8, (float(a), float(b), float(a) + 0.1, float(b) + 0.2))
                for a, b in zip(x, y, strict=True)
            ]
        )
    started = time.perf_counter()
    for f in range(frames):
        now = t0 + timedelta(seconds=f / 5)
        kept = ai.unmasked(detections[f])
        inside = zone_map.inside([d.box for d in kept], [d.label for d in kept])
        for n in range(len(kept)):
            presences[n].see(zone_map.areas, inside[n], now)
    return (time.perf_counter() - started) / (frames * objects) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zones", description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    from bench.detect.common import fmt, setup_django, table

    setup_django()
    from cameras.models import ZoneKind

    def camera(points: int):
        zones = [_Zone(f"zone {i}", ZoneKind.ZONE, outline(points, 0.25 + 0.5 * (i % 2), 0.25 + 0.5 * (i // 2), 0.2))
                 for i in range(4)]  # fmt: skip
        masks = [_Zone(f"mask {i}", ZoneKind.OBJECT_MASK, outline(points, 0.5, 0.1 + 0.8 * i, 0.08)) for i in range(2)]
        return zones + masks

    baseline = run([], args.objects, args.frames)
    rows = [("no zones (baseline)", fmt(baseline, 2), "1.0")]
    for points in (4, 100):
        cost = run(camera(points), args.objects, args.frames)
        rows.append((f"4 zones + 2 object masks, {points} points each", fmt(cost, 2), fmt(cost / baseline, 1)))
    print(f"{args.objects} objects a frame, {args.frames} frames")
    print(table(("configuration", "µs an object a frame", "x baseline"), rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
