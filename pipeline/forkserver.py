"""Worker processes of `runworkers`: a forkserver with PyAV preloaded, and handles on the
capture processes it forks (a stop event, a report pipe)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from django.conf import settings

from pipeline.processes import capture
from pipeline.processes.capture import CAPTURE_PRELOAD, CaptureConfig
from pipeline.specs import CameraSpec

_forkserver: ForkServerContext | None = None


def worker_context() -> ForkServerContext:
    """The multiprocessing context of worker processes: a forkserver that has imported
    PyAV and the capture code once, where a spawned interpreter per camera paid its imports
    in CPU, memory and start-up time for every camera (bench/README.md, Recording benchmark,
    "Results on this machine" and "Where AINVR's CPU goes")."""
    global _forkserver
    if _forkserver is None:
        _forkserver = multiprocessing.get_context("forkserver")
        _forkserver.set_forkserver_preload(CAPTURE_PRELOAD)
    return _forkserver


def start_worker_server() -> None:
    """Start the forkserver now rather than at the first camera."""
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()


def capture_config() -> CaptureConfig:
    """What of the settings a capture process needs, read here where Django is set up."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS.get("default", {})
    redis_layer = layer.get("BACKEND", "").startswith("channels_redis")
    return CaptureConfig(
        recordings_root=str(settings.RECORDINGS_DIR),
        redis_url=settings.REDIS_URL or "",
        channel_layer=dict(layer.get("CONFIG", {})) if redis_layer else {},
        logging=settings.LOGGING,
    )


class WorkerProcess:
    """A worker process and the event that asks it to stop (capture or stage)."""

    stop_event: Event | None = None
    process: BaseProcess | None = None

    def _process(self) -> BaseProcess:
        # Set by whoever makes the handle (ProcessHandle, pipeline.stage_pool) before any use.
        if self.process is None:
            raise RuntimeError("the worker process was never started")
        return self.process

    @property
    def pid(self) -> int | None:
        return self._process().pid

    def is_alive(self) -> bool:
        return self._process().is_alive()

    @property
    def exitcode(self) -> int | None:
        return self._process().exitcode

    def request_stop(self) -> None:
        if self.stop_event is None:
            raise RuntimeError("the worker process was never started")
        self.stop_event.set()

    def join(self, timeout: float) -> bool:
        self._process().join(timeout)
        return not self._process().is_alive()

    def kill(self) -> None:
        self._process().kill()
        self._process().join(5)


class ProcessHandle(WorkerProcess):
    """A capture process, the event that asks it to stop, and the pipe it reports on."""

    def __init__(
        self, spec: CameraSpec, config: CaptureConfig | None = None, frame_queues: dict[str, Any] | None = None
    ):
        ctx = worker_context()
        self.stop_event = ctx.Event()
        self.reports, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=capture.main,
            args=(spec, self.stop_event, child_end, config or capture_config(), frame_queues or {}),
            name=f"capture-{spec.slug}",
            daemon=False,
        )
        self.process.start()
        child_end.close()  # the child holds its own copy: EOF here once it is gone
