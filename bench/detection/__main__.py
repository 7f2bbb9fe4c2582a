"""Command line: python -m bench.detection."""

from __future__ import annotations

import argparse
import os
import queue
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

import bench.detection

REPO = Path(__file__).resolve().parents[2]


def setup_django() -> None:
    """Settings for a throwaway install: the stage reads the clock through Django."""
    scratch = Path(tempfile.mkdtemp(prefix="ainvr-bench-detection-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ainvr.settings")
    os.environ["DATA_DIR"] = str(scratch)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["ENV_FILE"] = str(scratch / "no.env")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def photo(name: str) -> np.ndarray:
    import importlib.util

    import cv2

    spec = importlib.util.find_spec("ultralytics")
    image = cv2.imread(str(Path(spec.origin).parent / "assets" / name))
    if image is None:
        raise SystemExit(f"cannot read ultralytics' assets/{name}")
    return image


def static_clip(n: int, rng) -> list[np.ndarray]:
    """A fixed camera on a scene where nothing moves: zidane.jpg at 640x360 with sensor noise."""
    import cv2

    scene = cv2.resize(photo("zidane.jpg"), (640, 360), interpolation=cv2.INTER_AREA).astype(np.int16)
    return [np.clip(scene + rng.normal(0, 2.0, scene.shape), 0, 255).astype(np.uint8) for _ in range(n)]


def busy_clip(n: int) -> list[np.ndarray]:
    """Motion in every frame: a 640x360 window panning across bus.jpg (people and a bus)."""
    import cv2

    big = cv2.resize(photo("bus.jpg"), (960, 1280), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n):
        x = int((i * 7) % (960 - 640))
        y = 500 + int((i * 3) % 200)
        frames.append(np.ascontiguousarray(big[y : y + 360, x : x + 640]))
    return frames


@dataclass
class Row:
    what: str
    frames: int
    wall_ms: float | None
    cpu_ms: float
    detector_calls: int | None = None
    ratio: float | None = None  # baseline CPU ms / this CPU ms


def timed(what: str, frames: int, work, detector=None) -> Row:
    calls_before = sum(detector.calls) if detector is not None else 0
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    calls = sum(detector.calls) - calls_before if detector is not None else None
    return Row(what, frames, wall * 1000 / frames, cpu * 1000 / frames, calls)


class CountingDetector:
    """Wraps a detector to count the frames it is given."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def detect(self, images):
        self.calls.append(len(images))
        return self.inner.detect(images)


class MemoryStore:
    """Events kept in memory: the benchmark measures inference, not the database."""

    def __init__(self):
        self.events = 0

    def start(self, camera_id, track, snapshot):
        self.events += 1
        return self.events

    def update(self, event_id, track, snapshot):
        pass

    def close(self, event_id, track, snapshot):
        pass


def run_stage(detector, clip, fps: float = 5.0) -> None:
    from django.utils import timezone

    from cameras.frames import Frame
    from detection.selectors import CameraAI
    from detection.stage import InferenceStage

    frames = queue.Queue()
    ai = CameraAI(1, "bench", True, frozenset({"person", "car", "bus", "truck"}), 0.5, True)
    t0 = timezone.now()
    stage = InferenceStage(
        frames=frames,
        detector=detector,
        camera_settings=lambda: {1: ai},
        store=MemoryStore(),
        batch_size=4,
        batch_ms=0,
    )
    clock = [0.0]
    stage.clock = lambda: clock[0]  # the clip's time: rechecks every 2 s of footage, as live
    for i, image in enumerate(clip):
        clock[0] = i / fps
        frames.put(Frame(1, t0 + timedelta(seconds=i / fps), image, 640, 360))
        stage.step()
    stage.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.detection", description=bench.detection.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--frames", type=int, default=150, help="frames per clip (default 150: 30 s at 5 fps)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (default: its choice)")
    args = parser.parse_args(argv)
    if args.frames < 8:
        parser.error("--frames must be at least 8")

    setup_django()
    from detection.backends import DetectorError, create_detector
    from detection.backends.bytetrack import ByteTracker
    from detection.motion import MotionGate

    detector = create_detector("onnx", confidence=0.25, threads=args.threads)
    try:
        detector.load()
    except DetectorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rng = np.random.default_rng(1)
    static, busy = static_clip(args.frames, rng), busy_clip(args.frames)
    detector.detect(static[:2])  # warm up: first runs allocate
    ByteTracker().update([], 640, 360)  # import ultralytics' tracker (and torch) before timing

    rows: list[Row] = []
    n = args.frames
    baseline = timed("naive: detector on every frame (batch 1)", n, lambda: [detector.detect([f]) for f in static])
    baseline.detector_calls = n
    rows.append(baseline)
    rows.append(
        timed(
            "onnx default, batch 4",
            n - n % 4,
            lambda: [detector.detect(static[i : i + 4]) for i in range(0, n - n % 4, 4)],
        )
    )
    rows[-1].detector_calls = n - n % 4
    gate = MotionGate()
    rows.append(timed("motion gate alone", n, lambda: [gate.check(f) for f in static]))
    counted = CountingDetector(detector)
    rows.append(timed("AINVR live stage, static clip", n, lambda: run_stage(counted, static), counted))
    counted = CountingDetector(detector)
    rows.append(timed("AINVR live stage, busy clip", n, lambda: run_stage(counted, busy), counted))
    for row in rows[-2:]:
        row.wall_ms = None  # the stage waits for frames between steps: wall time is not its cost
    for row in rows:
        row.ratio = baseline.cpu_ms / row.cpu_ms if row.cpu_ms > 0 else None

    print(f"\n{detector.describe()}; {os.cpu_count()} CPUs; frames 640x360, {n} per clip (5 fps)\n")
    header = ("what", "frames", "wall ms/frame", "CPU ms/frame", "detector frames", "x cheaper than naive")
    lines = [
        (
            r.what,
            str(r.frames),
            "-" if r.wall_ms is None else f"{r.wall_ms:.2f}",
            f"{r.cpu_ms:.2f}",
            "-" if r.detector_calls is None else str(r.detector_calls),
            "-" if r.ratio is None else f"{r.ratio:.1f}",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for line in lines:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
