"""Every Prometheus metric of the pipeline, and the one-line helpers that record them.

Imports nothing from Django: capture and inference processes call these without it.
Values go to prometheus-client's multiprocess files in PROMETHEUS_MULTIPROC_DIR, which
settings set (under STATE_DIR) before any process imports this module; processes started
by a Django process inherit it. `/metrics` (ops/views.py) adds up every process's files.

`camera` is always the camera's slug. Rates (fps in and out, bytes per second) are
PromQL's business: `rate(ainvr_frames_in_total[1m])`.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from core.pids import pid_alive

ENV = "PROMETHEUS_MULTIPROC_DIR"

FRAMES_IN = Counter("ainvr_frames_in", "Frames decoded from a camera's detect stream.", ["camera"])
FRAMES_OUT = Counter("ainvr_frames_out", "Frames of a camera the AI stage has processed.", ["camera"])
FRAMES_DROPPED = Counter(
    "ainvr_frames_dropped", "Frames dropped at a stage rather than slow recording down.", ["camera", "stage"]
)
RECONNECTS = Counter("ainvr_camera_reconnects", "Times a camera's stream was opened again after a loss.", ["camera"])
SEGMENTS = Counter("ainvr_segments_written", "Recording segments closed and stored.", ["camera"])
SEGMENT_BYTES = Counter("ainvr_segment_bytes", "Bytes of recording segments closed and stored.", ["camera"])
RECORDING_LAG = Histogram(
    "ainvr_recording_lag_seconds",
    "From a segment's last packet to its row being stored.",
    ["camera"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
INFERENCE = Histogram(
    "ainvr_inference_seconds",
    "Time of one detector call (a batch of frames).",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)
INFERENCE_BATCH = Histogram(
    "ainvr_inference_batch_frames", "Frames per detector call.", buckets=(1, 2, 4, 8, 16, 32, 64)
)
QUEUE_DEPTH = Gauge(
    "ainvr_queue_depth", "Frames waiting at a stage (e.g. inference).", ["stage"], multiprocess_mode="livesum"
)
DETECTIONS = Counter("ainvr_detections", "Objects detected in frames (before tracking).", ["camera", "label"])
EVENTS = Counter("ainvr_events", "Object events (tracked objects) started.", ["camera", "label"])
SIGHTINGS = Counter("ainvr_attendance_sightings", "Faces recognised as an employee.", ["camera"])
DELIVERIES = Counter(
    "ainvr_notification_deliveries", "Notification deliveries by channel kind and result.", ["channel", "result"]
)
RETENTION_SEGMENTS = Counter("ainvr_retention_deleted_segments", "Segments deleted by retention.", ["camera"])
RETENTION_BYTES = Counter("ainvr_retention_deleted_bytes", "Bytes deleted by retention.", ["camera"])
JOBS = Histogram(
    "ainvr_job_seconds",
    "Background jobs (RQ) by kind and result, with their duration.",
    ["kind", "result"],
    buckets=(0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600),
)


def frames_in(camera: str, n: int = 1) -> None:
    FRAMES_IN.labels(camera).inc(n)


def frames_out(camera: str, n: int = 1) -> None:
    FRAMES_OUT.labels(camera).inc(n)


def frames_dropped(camera: str, stage: str, n: int = 1) -> None:
    FRAMES_DROPPED.labels(camera, stage).inc(n)


def camera_reconnected(camera: str) -> None:
    RECONNECTS.labels(camera).inc()


def segment_closed(camera: str, size_bytes: int, lag_s: float) -> None:
    SEGMENTS.labels(camera).inc()
    SEGMENT_BYTES.labels(camera).inc(size_bytes)
    RECORDING_LAG.labels(camera).observe(max(0.0, lag_s))


def inference(ms: float, batch: int = 1) -> None:
    INFERENCE.observe(ms / 1000.0)
    INFERENCE_BATCH.observe(batch)


def queue_depth(stage: str, n: int) -> None:
    """The number waiting now at `stage`, as seen by this process (summed over live processes)."""
    QUEUE_DEPTH.labels(stage).set(n)


def detection(camera: str, label: str, n: int = 1) -> None:
    DETECTIONS.labels(camera, label).inc(n)


def event(camera: str, label: str) -> None:
    EVENTS.labels(camera, label).inc()


def attendance_sighting(camera: str) -> None:
    SIGHTINGS.labels(camera).inc()


def delivery(channel_kind: str, ok: bool) -> None:
    DELIVERIES.labels(channel_kind, "ok" if ok else "failed").inc()


def retention_deleted(camera: str, n: int, size_bytes: int) -> None:
    RETENTION_SEGMENTS.labels(camera).inc(n)
    RETENTION_BYTES.labels(camera).inc(size_bytes)


def job_finished(kind: str, ok: bool, seconds: float) -> None:
    JOBS.labels(kind, "ok" if ok else "failed").observe(seconds)


def clean_multiprocess_dir(path: str | Path | None = None) -> int:
    """Delete the metric files of processes that are gone; call at runworkers start-up,
    before any capture process starts. Files of live processes (the web server's, say)
    stay. Returns how many files were deleted."""
    path = Path(path or os.environ.get(ENV) or "")
    if not path.is_dir() or str(path) in {"", "."}:
        return 0
    deleted = 0
    for file in path.glob("*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            file.unlink(missing_ok=True)
            deleted += 1
    return deleted


def process_died(pid: int) -> None:
    """Call when a child process is gone (the supervisor reaping it): its live gauges
    (queue depth) stop counting at once instead of at the next clean-up."""
    from prometheus_client import multiprocess

    if os.environ.get(ENV):
        multiprocess.mark_process_dead(pid)
