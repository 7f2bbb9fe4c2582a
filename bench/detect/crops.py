"""(d) Motion crops against the whole frame, on a 1080p camera where a far person (56 px
tall) walks across a still scene, and on a busy scene (motion everywhere)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from bench.detect.common import busy_frames, photo, static_frames

FAR_PERSON_PX = 56


def far_walker(n: int, width: int = 1920, height: int = 1080, rng=None):
    """Frames of a still scene with a far person (the man on the left of bus.jpg, FAR_PERSON_PX
    tall) walking left to right across its middle, and the person's box in each frame."""
    import cv2

    frames = static_frames(n, width, height, rng or np.random.default_rng(5))
    bus = photo("bus.jpg")
    bh, bw = bus.shape[:2]
    person = bus[round(0.36 * bh) : round(0.84 * bh), round(0.05 * bw) : round(0.28 * bw)]
    pw = round(person.shape[1] * FAR_PERSON_PX / person.shape[0])
    person = cv2.resize(person, (pw, FAR_PERSON_PX), interpolation=cv2.INTER_AREA)
    y = round(height * 0.45)
    boxes = []
    for i, frame in enumerate(frames):
        x = round(width * 0.1 + i / max(1, n - 1) * width * 0.8)
        frame[y : y + FAR_PERSON_PX, x : x + pw] = person
        boxes.append((x / width, y / height, (x + pw) / width, (y + FAR_PERSON_PX) / height))
    return frames, boxes


def _iou(a, b) -> float:
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def run(detector, frames, boxes=None, *, crops: bool, threshold: float, gate: dict | None = None):
    """Frames with motion, frames where the person was found (when `boxes` are known), CPU
    seconds spent detecting, and detector calls."""
    from cameras.frames import Frame
    from detection.look import Look, crop_side
    from detection.motion import FULL_FRAME, MotionGate, motion_crops

    gate = MotionGate(**(gate or {}))
    moving = found = calls = 0
    cpu = 0.0
    side = crop_side(detector)
    now = datetime.now(UTC)
    for i, image in enumerate(frames):
        motion = gate.check(image)
        if not motion.moving or motion.reason != "motion":
            continue
        moving += 1
        height, width = image.shape[:2]
        regions = motion_crops(motion, width, height, side=side) if crops else (FULL_FRAME,)
        look = Look(Frame(1, now, image, width, height), regions)
        started = time.process_time()
        result = look.to_frame(detector.detect(look.images()))
        cpu += time.process_time() - started
        calls += len(regions)
        if boxes is not None and any(
            d.label == "person" and d.confidence >= threshold and _iou(d.box, boxes[i]) >= 0.3 for d in result
        ):
            found += 1
    return moving, found, cpu, calls


def crops_part(detector, fps: int = 5, seconds: float = 12) -> str:
    from bench.detect.common import fmt, table
    from core.model_scores import BUNDLED

    n = round(fps * seconds)
    far, boxes = far_walker(n)
    busy = busy_frames(n, 1920, 1080)
    still = static_frames(n, 1920, 1080, np.random.default_rng(6))
    rows = []
    # The default gate (160 px wide, blobs >= 0.2 % of the frame) does not see a 56 px person in
    # 1080p at all; the finer gate does, most of the time.
    from detection.motion import FAR_GATE

    fine = FAR_GATE
    clips = (
        ("far person, 1080p, default gate", far, boxes, None),
        ("far person, 1080p, gate 480 px", far, boxes, fine),
        ("busy scene", busy, None, None),
        ("still", still, None, None),
    )
    for name, frames, truth, gate in clips:
        whole = run(detector, frames, truth, crops=False, threshold=BUNDLED.threshold, gate=gate)
        cropped = run(detector, frames, truth, crops=True, threshold=BUNDLED.threshold, gate=gate)
        for how, (moving, found, cpu, calls), base in (("whole frame", whole, whole), ("motion crops", cropped, whole)):
            rate = f"{found}/{moving} ({100 * found / moving:.0f} %)" if truth is not None and moving else "-"
            ratio = fmt(cpu / base[2]) if base[2] else "-"
            rows.append((f"{name}: {how}", str(moving), rate, str(calls), f"{cpu:.2f}", ratio))
    header = ("(d) motion crops", "frames moving", "person found", "detector calls", "CPU s", "x whole frame")
    return table(header, rows)
