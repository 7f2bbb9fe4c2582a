"""Worker processes of `runworkers`: a forkserver with PyAV preloaded, and handles on the
capture processes it forks (a stop event, a report pipe)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from cameras.process_main import CAPTURE_PRELOAD, CaptureConfig, capture_main
from cameras.specs import CameraSpec

_forkserver: ForkServerContext | None = None


def worker_context() -> ForkServerContext:
    """The multiprocessing context of worker processes: a forkserver that has imported
    PyAV and the capture code once (a spawned interpreter per camera took 0.5-0.75 CPU-s
    and ~45 MB each, and 32 of them 14 s to start)."""
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


class WorkerProcess:
    """A worker process and the event that asks it to stop (capture or stage)."""

    stop_event: Event | None = None
    process: BaseProcess | None = None

    def _process(self) -> BaseProcess:
        # Set by whoever makes the handle (ProcessHandle, cameras.stages) before any use.
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
            target=capture_main,
            args=(spec, self.stop_event, child_end, config or CaptureConfig.from_settings(), frame_queues or {}),
            name=f"capture-{spec.slug}",
            daemon=False,
        )
        self.process.start()
        child_end.close()  # the child holds its own copy: EOF here once it is gone
