"""Entry points of worker processes.

Capture processes run WITHOUT Django: they are forked from a forkserver that has PyAV
and the capture modules already imported (so a camera starts without importing them
again, and shares those pages), and they talk to the database only through their supervisor
(pipeline.reports). What they need of the settings comes in a CaptureConfig.

main() imports the capture code itself: the supervisor imports this module for
CaptureConfig and CAPTURE_PRELOAD, and only the forked child needs the rest.
"""

from __future__ import annotations

import logging
import logging.config
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

    from cameras.frames import Frame
    from pipeline.detect_stream import FrameSink
    from pipeline.reports import ReportSender
    from pipeline.specs import CameraSpec

# What the forkserver imports once, before it forks any capture process.
CAPTURE_PRELOAD = [
    "av",
    "numpy",
    "pipeline.capture",
    "cameras.frames",
    "pipeline.live.relay",
    "pipeline.live.channel",
    "pipeline.reports",
    "recordings.segments",
    "channels_redis.core",
    "core.metrics",
]


@dataclass(frozen=True)
class CaptureConfig:
    """The settings a capture process needs: plain values, read by the supervisor."""

    recordings_root: str
    redis_url: str = ""
    channel_layer: dict[str, Any] = field(default_factory=dict)  # CHANNEL_LAYERS["default"]["CONFIG"] when Redis
    logging: dict[str, Any] = field(default_factory=dict)


def configure_logging(config: dict[str, Any]) -> None:
    try:
        logging.config.dictConfig(config)
    except Exception:  # a handler that needs Django: plain lines to stderr then
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def frame_sink(spec: CameraSpec, frame_queues: dict[str, Queue[Frame]]) -> FrameSink | None:
    """Where this camera's sampled frames go: the detector's queue when AI is on, the face
    recogniser's when attendance is, both, or nowhere (then nothing is decoded at all)."""
    from core import metrics
    from pipeline.detect_stream import FanOutSink, ProcessQueueSink

    wanted = {"detection": spec.ai_enabled, "attendance": spec.attendance_enabled}
    sinks = [
        ProcessQueueSink(q, on_drop=partial(metrics.frames_dropped, spec.slug, purpose))
        for purpose, q in sorted(frame_queues.items())
        if wanted.get(purpose)
    ]
    if not sinks:
        return None
    return sinks[0] if len(sinks) == 1 else FanOutSink(sinks)


class StopCheck:
    """Whether a capture process should stop: `stop` set, its parent gone, or its
    supervisor's pipe broken. Asked before every packet but worked out at most every
    `every_s`: a multiprocessing Event takes two semaphores and getppid() is a system call,
    too dear before every packet (bench/README.md, "The live relay's check for viewers") for
    an answer that only needs to come within a fraction of a second."""

    def __init__(self, *, every_s: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.every_s = every_s
        self.clock = clock
        self._next = 0.0

    def __call__(self, stop: Event, parent: int, sender: ReportSender) -> bool:
        now = self.clock()
        if now < self._next:
            return False
        self._next = now + self.every_s
        return stop.is_set() or os.getppid() != parent or sender.broken


def main(
    spec: CameraSpec,
    stop: Event,
    reports: Connection,
    config: CaptureConfig,
    frame_queues: dict[str, Queue[Frame]] | None = None,
) -> None:
    """A capture process: record `spec`'s camera until `stop` is set, SIGTERM, or its
    supervisor dies (a SIGKILLed runworkers must not leave cameras recorded twice once
    another host takes them over). `reports` is this process's end of its pipe;
    `frame_queues` the stages' queues by purpose ("detection", "attendance")."""
    # Ctrl-C reaches the whole process group: only the supervisor decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    configure_logging(config.logging)

    from core import metrics
    from pipeline.capture import CaptureWorker, StatusReporter
    from pipeline.reports import ReportSender

    sender = ReportSender(reports)
    if spec.credentials_error:
        _wait_unopened(spec, stop, reports, sender)
        return
    live, sub_live = None, None
    has_sub_stream = spec.detect_url != spec.main_url
    if config.redis_url and config.channel_layer:  # live video crosses processes only through Redis
        from pipeline.live.channel import SUB, RedisLiveChannel, live_key
        from pipeline.live.relay import LiveRelay

        live = LiveRelay(spec.slug, channel=RedisLiveChannel(config.redis_url, layer_config=config.channel_layer))
        if has_sub_stream:  # what grid tiles play: a 4K main stream is for full screen only
            channel = RedisLiveChannel(config.redis_url, layer_config=config.channel_layer)
            sub_live = LiveRelay(live_key(spec.slug, SUB), channel=channel)
    sampler, detect_reader = None, None
    sink = frame_sink(spec, frame_queues or {})
    if sink is not None:
        from pipeline.detect_stream import FrameSampler

        sampler = FrameSampler(
            spec.id, fps=spec.detect_fps, sink=sink, rotation=spec.rotation, max_side=spec.frame_side
        )
    if has_sub_stream and (sampler is not None or sub_live is not None):
        from cameras.probe import open_stream
        from pipeline.detect_stream import DetectStreamReader

        detect_reader = DetectStreamReader(spec.detect_url, sampler, open_source=open_stream, live=sub_live)
        detect_reader.start()
        sampler = None  # the main stream is not decoded at all
    worker = CaptureWorker(
        spec,
        recordings_root=Path(config.recordings_root),
        status=StatusReporter(spec.id, write=sender.status, on_frames=lambda n: metrics.frames_in(spec.slug, n)),
        on_segment=sender.segment,
        on_disk_full=sender.disk_full,
        live=live,
        sampler=sampler,
        on_reconnected=lambda: metrics.camera_reconnected(spec.slug),
    )
    parent = os.getppid()  # the forkserver: it exits with the supervisor
    should_stop = StopCheck()
    try:
        while not should_stop(stop, parent, sender):
            worker.step()
    finally:
        if detect_reader is not None:
            detect_reader.stop()
        worker.stop()  # finishes the segment being written and reports it
        reports.close()


def _wait_unopened(spec: CameraSpec, stop: Event, reports: Connection, sender: ReportSender) -> None:
    """A camera whose credentials cannot be decrypted: opening it without them would only
    be refused, and exiting would make the supervisor restart us in a loop. Say why once
    and wait to be stopped (a key or password put right gives a new spec, so a restart)."""
    from pipeline.specs import CameraStates

    logging.getLogger("ainvr.workers").error("%s: %s", spec.slug, spec.credentials_error)
    sender.status(spec.id, CameraStates.ERROR, {"last_error": spec.credentials_error})
    parent = os.getppid()
    should_stop = StopCheck(every_s=0.5)
    try:
        while not should_stop(stop, parent, sender):
            stop.wait(0.5)
    finally:
        reports.close()
