"""Entry points of worker processes, started with "spawn" (a fresh interpreter: no
Django state or database connection inherited across a fork). Nothing here imports
Django models before `django.setup()`."""

from __future__ import annotations

import signal


def capture_main(spec, stop, frames_queue=None) -> None:
    """A capture process: record `spec`'s camera until `stop` is set, SIGTERM, or its
    supervisor dies (a SIGKILLed runworkers must not leave cameras recorded twice once
    another host takes them over)."""
    import os

    import django

    # A worker needs no web server: settings leave daphne (and Twisted) out, which halves
    # the start-up and memory of each of these processes.
    os.environ["AINVR_WORKER_PROCESS"] = "1"
    django.setup()
    from django.db import connections

    # Keep the database connection between writes (a status every 5 s, a row per segment):
    # reconnecting each time cost more CPU than the recording. Checked before each use.
    connections["default"].settings_dict["CONN_MAX_AGE"] = 600
    from django.conf import settings

    from ainvr.db import drop_stale_connections
    from cameras.capture import CaptureWorker

    # Ctrl-C reaches the whole process group: only the supervisor decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    live = None
    if settings.REDIS_URL:  # live video crosses processes only through Redis
        from cameras.live import LiveRelay, RedisLiveChannel

        live = LiveRelay(spec.slug, channel=RedisLiveChannel(settings.REDIS_URL))
    sampler, detect_reader = None, None
    if frames_queue is not None and spec.ai_enabled:
        from cameras.capture import open_stream
        from cameras.frames import DetectStreamReader, FrameSampler, ProcessQueueSink

        sampler = FrameSampler(spec.id, fps=spec.detect_fps, sink=ProcessQueueSink(frames_queue))
        if spec.detect_url != spec.main_url:
            detect_reader = DetectStreamReader(spec.detect_url, sampler, open_source=open_stream)
            detect_reader.start()
            sampler = None  # the main stream is not decoded at all
    worker = CaptureWorker(spec, recordings_root=settings.RECORDINGS_DIR, live=live, sampler=sampler)
    parent = os.getppid()
    try:
        while not stop.is_set() and os.getppid() == parent:
            worker.step()
    finally:
        if detect_reader is not None:
            detect_reader.stop()
        worker.stop()  # finishes the segment being written
        drop_stale_connections()
