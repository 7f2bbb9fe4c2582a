"""The attendance worker process: what runworkers spawns for cameras with attendance on.

    multiprocessing.get_context("spawn").Process(
        target=pipeline.processes.recognition.main,
        args=(frames_queue, stop_event, [camera ids]),
    )

It takes cameras.frames.Frame objects from `frames_queue` (the capture processes'
ProcessQueueSink), and only plain values as arguments. A spawned child imports this module
to unpickle its target: models and the face backend are imported in main(), once Django is
set up.
"""

from __future__ import annotations

import logging
import queue
import signal
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from attendance.recognition.stage import RecognitionStage

log = logging.getLogger("ainvr.attendance")

IDLE_WAIT_SECONDS = 0.5  # how long to wait for a frame before the clock-driven work runs anyway
CONNECTION_CHECK_SECONDS = 60.0
EXIT_BACKEND_UNAVAILABLE = 2


def main(
    frames_queue: Any,  # a multiprocessing Queue of cameras.frames.Frame
    stop: Event,
    camera_ids: list[int] | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Run recognition until `stop` (a multiprocessing Event) is set or SIGTERM. `options`
    override RecognitionConfig fields (e.g. {"absence_seconds": 30}). The process exits
    with status 2 when the face backend cannot load (its one-line reason is logged): a
    supervisor should not restart it until the configuration changes."""
    import os

    import django

    os.environ.setdefault("AINVR_WORKER_PROCESS", "1")
    django.setup()
    from attendance.recognition.matcher import use_one_blas_thread
    from detection.backends.face import FaceBackendUnavailable

    use_one_blas_thread()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stage = build_stage(camera_ids=camera_ids, options=options)
    except FaceBackendUnavailable as e:
        log.error("attendance worker not started: %s", e)
        raise SystemExit(EXIT_BACKEND_UNAVAILABLE) from None
    from core.heap import settle

    settle()  # the backend and Django are loaded: keep them out of the collector's way (core.heap)
    run(stage, frames_queue, stop)


def build_stage(
    *,
    camera_ids: Iterable[int] | None = None,
    options: dict[str, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RecognitionStage:
    from attendance.recognition.backend import face_backend_from_settings, roster_matcher_for
    from attendance.recognition.stage import RecognitionConfig, RecognitionStage

    backend = face_backend_from_settings()
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    return RecognitionStage(
        backend=backend,
        matcher=roster_matcher_for(backend),
        config=RecognitionConfig.from_settings(**(options or {})),
        camera_ids=set(camera_ids) if camera_ids else None,
        **extra,
    )


def run(
    stage: RecognitionStage,
    frames_queue: Any,  # get(timeout=) raising queue.Empty: a multiprocessing or queue.Queue
    stop: Event,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Feed frames to `stage` until `stop` is set; the clock-driven work (absences, flushes,
    midnight upkeep) runs at least every IDLE_WAIT_SECONDS even when no frame comes."""
    from django.db import connections

    from core.db import drop_stale_connections
    from core.heap import HeapKeeper

    checked = monotonic()
    heap_keeper = HeapKeeper(clock=monotonic)  # a sighting's writes leave cyclic garbage: collect it
    try:
        while not stop.is_set():
            try:
                frame = frames_queue.get(timeout=IDLE_WAIT_SECONDS)
            except queue.Empty:
                frame = None
            try:
                stage.step(frame)
            except Exception:  # one bad frame or a database hiccup must not end attendance
                log.exception("attendance step failed")
                drop_stale_connections()
            heap_keeper.step()
            if monotonic() - checked >= CONNECTION_CHECK_SECONDS:
                drop_stale_connections()  # days-long process: reconnect if PostgreSQL dropped us
                checked = monotonic()
        stage.flush()
    finally:
        connections.close_all()  # this thread's own connections (tests run the loop on a thread)
