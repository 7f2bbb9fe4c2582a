"""A stage for tests: writes one line per frame it takes (camera id, image shape)."""

from __future__ import annotations

import queue
from pathlib import Path


def record_frames(frames, stop, *, out: str, crash_after: int = 0) -> None:
    seen = 0
    while not stop.is_set():
        try:
            frame = frames.get(timeout=0.2)
        except queue.Empty:
            continue
        seen += 1
        with Path(out).open("a") as f:
            f.write(f"{frame.camera_id} {frame.image.shape[1]}x{frame.image.shape[0]}\n")
        if crash_after and seen >= crash_after:
            raise SystemExit(3)
