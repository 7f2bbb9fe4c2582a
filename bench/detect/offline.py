"""(b) Offline analysis speed: footage seconds analysed per wall second (realtime factor).

The footage is the demo clip of people (cameras.demo.make_demo_clip) at 720p15 with a 2 s
GOP, recorded into 10 s segments through recordings.segments.SegmentWriter as a camera is.
AINVR: detection.analysis.runner.AnalysisRun over those segments with a real AnalysisJob
(SQLite), the change gate and the detector, at 1 sample/s, without and with the annotated
video. Naive: OpenCV decodes every frame of every file and the detector runs on one frame a
second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.detect.common import timed

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class OfflineResult:
    what: str
    footage_s: float
    wall_s: float
    cpu_s: float
    samples: int
    detector_frames: int
    events: int | None = None

    @property
    def realtime(self) -> float:
        return self.footage_s / self.wall_s


def record_footage(scratch: Path, *, seconds: float, gop_seconds: float = 2.0):
    """The demo clip recorded as a camera's segments: (camera, SegmentFiles)."""
    from cameras.demo import make_demo_clip

    clip = make_demo_clip(scratch / "demo.mp4", seconds=seconds, fps=15, gop_seconds=gop_seconds)
    return record_clip(scratch, clip, "bench-demo")


def record_clip(scratch: Path, clip: Path, slug: str):
    """`clip` remuxed into 10 s segments of a new camera, as the recorder does."""
    import av

    from cameras.models import Camera
    from detection.analysis.footage import SegmentFile
    from recordings.segments import SegmentWriter
    from recordings.services import record_segment

    camera = Camera.objects.create(name=slug, slug=slug, stream_url=f"rtsp://127.0.0.1/{slug}")
    rows = []
    root = scratch / "recordings"
    writer = SegmentWriter(
        root=root,
        camera_slug=camera.slug,
        segment_seconds=10,
        on_closed=lambda closed: rows.append(record_segment(camera_id=camera.pk, closed=closed)),
    )
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        writer.begin(video, wall_clock=T0)
        for packet in container.demux(video):
            if packet.dts is not None:
                writer.write(packet)
        writer.close()
    segments = [SegmentFile(id=r.pk, path=root / r.path, start=r.start, end=r.end) for r in rows]
    return camera, segments


def ainvr_analysis(
    camera, segments, detector, *, annotate: bool, what: str, fps: float = 1.0, decode_ahead: int | None = None
) -> OfflineResult:
    from detection.analysis.gate import ChangeGate
    from detection.analysis.runner import AnalysisRun
    from detection.models import AnalysisJob, JobStatus

    start, end = segments[0].start, segments[-1].end
    job = AnalysisJob.objects.create(
        camera=camera,
        start=start,
        end=end,
        classes=["person", "car"],
        confidence=0.5,
        sample_fps=fps,
        annotate=annotate,
        status=JobStatus.RUNNING,
    )
    run = AnalysisRun(job, detector=detector, segments=segments, batch=4, gate=ChangeGate(), decode_ahead=decode_ahead)
    t = timed(run.run)
    footage = (end - start).total_seconds()
    return OfflineResult(what, footage, t.wall, t.cpu, run.frames, run.frames_detected, len(run.events))


def naive_analysis(segments, detector, *, what: str, fps: float = 1.0) -> OfflineResult:
    import cv2

    state = {"samples": 0}

    def work():
        for segment in segments:
            capture = cv2.VideoCapture(str(segment.path))
            every = max(1, round((capture.get(cv2.CAP_PROP_FPS) or 15.0) / fps))
            n = 0
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                if n % every == 0:
                    detector.detect([image])
                    state["samples"] += 1
                n += 1
            capture.release()

    t = timed(work)
    footage = sum((s.end - s.start).total_seconds() for s in segments)
    return OfflineResult(what, footage, t.wall, t.cpu, state["samples"], state["samples"])


def footage_span(segments) -> timedelta:
    return segments[-1].end - segments[0].start


def sampler_alone(segments, *, every_frame: bool, what: str, fps: float = 1.0) -> OfflineResult:
    """Only the decoding and conversion of the samples: `every_frame` decodes all of each
    GOP, as the sampler did before it learnt to stop at a GOP's last due frame."""
    from detection.analysis.footage import FootageSampler

    class EveryFrame(FootageSampler):
        def _needed_frames(self, container, stream, segment, zero):
            return container.decode(stream)

    cls = EveryFrame if every_frame else FootageSampler
    sampler = cls(segments, start=segments[0].start, end=segments[-1].end, fps=fps)
    taken = []
    t = timed(lambda: taken.extend(1 for _ in sampler.samples()))
    footage = (segments[-1].end - segments[0].start).total_seconds()
    return OfflineResult(f"{what} ({sampler.decoded_frames} frames decoded)", footage, t.wall, t.cpu, len(taken), 0)
