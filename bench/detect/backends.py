"""(c) Inference ms per frame of each backend at each input size, on real photos."""

from __future__ import annotations

import time
from dataclasses import dataclass

REPO_WEIGHTS = "tests/detection/weights"


@dataclass
class BackendResult:
    backend: str
    model: str
    size: int
    ms_per_frame: float | None
    cpu_ms_per_frame: float | None
    note: str = ""
    threads: str = ""  # ", N threads" when the row sets them


def measure(name: str, options: dict, size: int, images, *, repeats: int) -> BackendResult:
    from detection.backends import DetectorError, create_detector

    detector = create_detector(name, confidence=0.25, device="cpu", **options)
    try:
        detector.load()
    except DetectorError as e:
        return BackendResult(name, "-", size, None, None, str(e).splitlines()[0])
    detector.detect(images[:1])  # warm up: the first run allocates
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(repeats):
        detector.detect([images[i % len(images)]])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    from pathlib import Path

    model = Path(str(getattr(detector, "model_path", None) or options.get("model") or name)).name
    threads = f", {options['threads']} thread{'s' if options['threads'] > 1 else ''}" if options.get("threads") else ""
    return BackendResult(name, model, size, 1000 * wall / repeats, 1000 * cpu / repeats, threads=threads)
