"""(a) Live: CPU per camera of AINVR's motion-gated pipeline against the naive one.

AINVR: PyAV decodes every packet (P-frames need their predecessors), cameras.frames.
FrameSampler keeps `detect_fps` frames a second scaled to 640 px, and detection.stage.
InferenceStage gates them by motion, batches, runs the detector, tracks and keeps events
(in memory here). Naive: OpenCV decodes every frame at full resolution and the detector
runs on every one. Both read the same 720p H.264 file; the cost is CPU seconds per second
of footage, i.e. the share of one core a camera takes.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.detect.common import timed


class CountingDetector:
    """Wraps a detector to count the frames it is given."""

    def __init__(self, inner):
        self.inner, self.frames = inner, 0

    def detect(self, images):
        self.frames += len(images)
        return self.inner.detect(images)


class MemoryStore:
    """Events kept in memory: the benchmark measures the pipeline, not the database."""

    def __init__(self):
        self.events = 0

    def open_events(self, camera_id, since):
        return []  # nothing left open by an earlier run

    def start(self, camera_id, track, snapshot):
        self.events += 1
        return self.events

    def update(self, event_id, track, snapshot):
        pass

    def close(self, event_id, track, snapshot):
        pass


@dataclass
class LiveResult:
    what: str
    footage_s: float
    cpu_s: float
    wall_s: float
    detector_frames: int

    @property
    def core_share(self) -> float:
        """CPU seconds per footage second: the fraction of one core per camera."""
        return self.cpu_s / self.footage_s


def ainvr_live(clip: Path, detector, *, detect_fps: float, what: str) -> LiveResult:
    import av

    from detection.selectors import CameraAI
    from detection.stage import InferenceStage
    from pipeline.detect_stream import FrameSampler

    counted = CountingDetector(detector)
    frames: queue.Queue = queue.Queue()
    ai = CameraAI(1, "bench", True, frozenset({"person", "car", "bus", "truck"}), 0.5, True)
    stage = InferenceStage(
        frames=frames, detector=counted, camera_settings=lambda: {1: ai}, store=MemoryStore(), batch_size=4, batch_ms=0
    )
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    media = [0.0]
    stage.clock = lambda: media[0]  # the clip's time: the stage rechecks still scenes as it does live

    class Sink:
        def offer(self, frame):
            frames.put(frame)
            stage.step()
            return True

    sampler = FrameSampler(1, fps=detect_fps, sink=Sink(), wall_clock=lambda: t0 + timedelta(seconds=media[0]))
    footage = [0.0]

    def work():
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            sampler.begin(stream)
            for packet in container.demux(stream):
                if packet.pts is not None:
                    media[0] = footage[0] = float(packet.pts * stream.time_base)
                sampler.feed(packet)
        stage.close()

    t = timed(work)
    duration = footage[0] + 1 / float(av.open(str(clip)).streams.video[0].average_rate)
    return LiveResult(what, duration, t.cpu, t.wall, counted.frames)


def naive_live(clip: Path, detector, *, what: str) -> LiveResult:
    import cv2

    counted = CountingDetector(detector)
    state = {"frames": 0, "fps": 15.0}

    def work():
        capture = cv2.VideoCapture(str(clip))
        state["fps"] = capture.get(cv2.CAP_PROP_FPS) or 15.0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            state["frames"] += 1
            counted.detect([image])
        capture.release()

    t = timed(work)
    return LiveResult(what, state["frames"] / state["fps"], t.cpu, t.wall, counted.frames)
