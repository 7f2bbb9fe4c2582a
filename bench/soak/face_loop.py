"""Drive the attendance worker's RecognitionStage for an hour of frames with a fake face
backend (strangers walking past one camera, nobody enrolled), and report what its heap
kept: the face process's leak, found in minutes instead of a soak.

    python -m bench.soak.face_loop --frames 18000 [--database postgres]

At 5 frames a second, 18,000 frames are an hour: a stranger walks into view every 10 s and
stays 8 s, so every frame has a face to track and a sighting (an UNKNOWN event with its
JPEG) is written per track every few seconds, as a camera at a door does. The real roster
matcher, database writes, snapshots and notification hooks run; only the face detector
and embedder are fakes (a box and a random vector).
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta

import numpy as np
import psutil

from bench.soak.heap import report_growth, scratch_django

FRAME_S = 0.2


class StrangersBackend:
    """A face backend whose faces are given by the loop: no model."""

    model_name = "fake-strangers"
    dimension = 128

    def __init__(self):
        self.faces = []
        self.rng = np.random.default_rng(1)

    def detect(self, image):
        return list(self.faces)

    def embed_many(self, image, faces):
        vectors = self.rng.normal(size=(len(faces), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak.face_loop")
    parser.add_argument("--frames", type=int, default=18000)
    parser.add_argument("--warmup", type=int, default=1500, help="frames before the first heap snapshot")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    with scratch_django(args.database):
        return run(args)


def run(args) -> int:
    from attendance.recognition.backend import roster_matcher_for
    from attendance.recognition.stage import RecognitionConfig, RecognitionStage
    from cameras.frames import Frame
    from cameras.models import Camera
    from cameras.services import save_camera
    from detection.backends.face.base import DetectedFace

    camera = save_camera(
        Camera(name="door", slug="door", stream_url="rtsp://127.0.0.1:9/door", attendance_enabled=True)
    )
    start = datetime.now(UTC)
    at = [start]
    backend = StrangersBackend()
    stage = RecognitionStage(
        backend=backend,
        matcher=roster_matcher_for(backend),
        config=RecognitionConfig.from_settings(),
        clock=lambda: at[0],
    )
    rng = np.random.default_rng(2)
    image = rng.integers(40, 220, size=(360, 640, 3), dtype=np.uint8)  # sharp and mid-grey: passes the gates
    me = psutil.Process()
    rss = [0.0, 0.0]
    first = None
    for n in range(args.frames):
        at[0] = start + timedelta(seconds=n * FRAME_S)
        second = n * FRAME_S % 10
        if second < 8:  # a stranger in view for 8 s of every 10, each walking in at another place
            x = 40 + (n // 50) % 5 * 110 + second * 4
            box = (x, 100.0, x + 90, 190.0)
            backend.faces = [DetectedFace(box=box, score=0.9, landmarks=np.zeros((5, 2), np.float32))]
        else:
            backend.faces = []
        stage.step(Frame(camera.pk, at[0], image, 1280, 720))
        if n == args.warmup:
            tracemalloc.start(40)
            first = tracemalloc.take_snapshot()
            rss[0] = me.memory_info().rss / 2**20
    last = tracemalloc.take_snapshot()
    rss[1] = me.memory_info().rss / 2**20
    print(f"{args.frames} frames ({args.frames * FRAME_S / 60:.0f} min at 5 fps), {stage.faces} faces")
    report_growth(first, last, minutes=(args.frames - args.warmup) * FRAME_S / 60, rss_mb=tuple(rss), top=args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
