"""What every part of the benchmark shares: a throwaway install, the photos, the clips,
CPU and wall timing, and the table printer."""

from __future__ import annotations

import importlib.util
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def setup_django() -> Path:
    """A throwaway install (SQLite in a scratch DATA_DIR, migrated): analysis jobs and their
    events are real rows. Returns the scratch folder."""
    scratch = Path(tempfile.mkdtemp(prefix="ainvr-bench-detect-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "ainvr.settings"
    os.environ["DATA_DIR"] = str(scratch)
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["ENV_FILE"] = str(scratch / "no.env")
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return scratch


def photo(name: str) -> np.ndarray:
    import cv2

    spec = importlib.util.find_spec("ultralytics")
    image = cv2.imread(str(Path(spec.origin).parent / "assets" / name))
    if image is None:
        raise SystemExit(f"cannot read ultralytics' assets/{name}")
    return image


def static_frames(n: int, width: int, height: int, rng) -> list[np.ndarray]:
    """A fixed camera on a scene where nothing moves: zidane.jpg with sensor noise."""
    import cv2

    scene = cv2.resize(photo("zidane.jpg"), (width, height), interpolation=cv2.INTER_AREA).astype(np.int16)
    return [np.clip(scene + rng.normal(0, 2.0, scene.shape), 0, 255).astype(np.uint8) for _ in range(n)]


def passer_by_frames(n: int, width: int, height: int, rng, *, fps: int = 15, walk_s: float = 15.0) -> list[np.ndarray]:
    """What a fixed security camera mostly records: the still scene of static_frames, and for
    `walk_s` seconds in the middle of each minute a person (the man on the left of bus.jpg)
    walking across it from left to right."""
    import cv2

    frames = static_frames(n, width, height, rng)
    bus = photo("bus.jpg")
    bh, bw = bus.shape[:2]
    person = bus[round(0.36 * bh) : round(0.84 * bh), round(0.05 * bw) : round(0.28 * bw)]
    ph = height // 2
    pw = round(person.shape[1] * ph / person.shape[0])
    person = cv2.resize(person, (pw, ph), interpolation=cv2.INTER_AREA)
    per_minute, walk = 60 * fps, round(walk_s * fps)
    first = (per_minute - walk) // 2
    for i, frame in enumerate(frames):
        step = i % per_minute - first
        if 0 <= step < walk:
            x = round(step / walk * (width - pw))
            y = height - ph - height // 10
            frame[y : y + ph, x : x + pw] = person
    return frames


def busy_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    """Motion in every frame: a window panning across bus.jpg (people and a bus)."""
    import cv2

    big = cv2.resize(photo("bus.jpg"), (width * 3 // 2, width * 2), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n):
        x = int((i * 7) % (big.shape[1] - width))
        y = big.shape[0] * 2 // 5 + int((i * 3) % (big.shape[0] // 6))
        frames.append(np.ascontiguousarray(big[y : y + height, x : x + width]))
    return frames


def encode_clip(path: Path, frames: list[np.ndarray], *, fps: int, gop: int) -> Path:
    """H.264 MP4 of `frames`, as a camera sends it (no B-frames, a keyframe every `gop`)."""
    import av

    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "bf": "0"}
        stream.codec_context.gop_size = gop
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@dataclass
class Timing:
    wall: float  # seconds
    cpu: float  # CPU seconds of this process (every thread counted)


def timed(work) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
