"""The pipeline's shared stages: processes that serve every camera of this host (the
detector, one per device; face recognition), fed with frames by the capture processes.

A stage is named by a StageSpec: where its entry function lives, which frame queue it
reads ("detection", "attendance"), and plain keyword arguments. The StagePool starts
one process per stage, restarts one that dies with backoff, gives up for a while on one
that flaps, and stops them all at the end. Each queue is bounded: when a stage falls
behind, capture processes drop frames (counted) rather than wait, so recording never
depends on inference.

A stage process sets Django up itself (it writes events and reads templates), then calls
`entry(frames=<queue>, stop=<event>, **kwargs)` and returns when `stop` is set.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cameras.restarts import FLAP_MESSAGE, Restarts

log = logging.getLogger("ainvr.workers")

FRAME_QUEUE_SIZE = 16  # frames: at 640x360 about 11 MB in flight at most


@dataclass(frozen=True)
class StageSpec:
    name: str
    entry: str  # "package.module:function"
    queue: str  # the frame queue it reads
    kwargs: dict = field(default_factory=dict)


def stage_main(spec: StageSpec, frames, stop) -> None:
    """A stage process: set Django up, then run the entry function until `stop`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when we stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    os.environ["AINVR_WORKER_PROCESS"] = "1"
    import django

    django.setup()
    module, _, name = spec.entry.partition(":")
    entry = getattr(importlib.import_module(module), name)
    entry(frames=frames, stop=stop, **spec.kwargs)


class StageHandle:
    def __init__(self, spec: StageSpec, frames):
        from cameras.supervisor import worker_context

        ctx = worker_context()
        self.stop_event = ctx.Event()
        self.process = ctx.Process(target=stage_main, args=(spec, frames, self.stop_event), name=spec.name)
        self.process.start()

    @property
    def pid(self):
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.is_alive()

    @property
    def exitcode(self):
        return self.process.exitcode

    def request_stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float) -> bool:
        self.process.join(timeout)
        return not self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)


@dataclass
class _Running:
    spec: StageSpec
    handle: object | None = None
    restarts: Restarts = field(default_factory=Restarts)


class StagePool:
    def __init__(
        self,
        specs: Iterable[StageSpec],
        *,
        spawn: Callable | None = None,
        make_queue: Callable[[int], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = FRAME_QUEUE_SIZE,
    ):
        self.specs = list(specs)
        self.spawn = spawn or StageHandle
        self.clock = clock
        make_queue = make_queue or _make_queue
        # One queue per purpose, made before any capture process starts (they inherit it).
        self.queues = {name: make_queue(queue_size) for name in sorted({s.queue for s in self.specs})}
        self.running = {s.name: _Running(spec=s) for s in self.specs}

    def tend(self, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        worked = False
        for run in self.running.values():
            if run.handle is not None and not run.handle.is_alive():
                log.warning("stage %s: process exited with code %s", run.spec.name, run.handle.exitcode)
                run.handle = None
                run.restarts.exited(now)
                worked = True
            if run.handle is None and run.restarts.due(now):
                if run.restarts.flapping(now):
                    log.error("stage %s %s", run.spec.name, FLAP_MESSAGE)
                    continue
                run.restarts.started(now)
                run.handle = self.spawn(run.spec, self.queues[run.spec.queue])
                log.info("stage %s: started (pid %s)", run.spec.name, getattr(run.handle, "pid", "?"))
                worked = True
            elif run.handle is not None:
                run.restarts.still_running(now)
        return worked

    def stop(self, timeout_s: float = 15.0) -> None:
        handles = [run.handle for run in self.running.values() if run.handle is not None]
        for handle in handles:
            handle.request_stop()
        deadline = self.clock() + timeout_s
        for handle in handles:
            if not handle.join(max(0.1, deadline - self.clock())):
                log.warning("a stage process did not stop in time, killing it")
                handle.kill()
        for run in self.running.values():
            run.handle = None


def _make_queue(size: int):
    from cameras.supervisor import worker_context

    return worker_context().Queue(maxsize=size)
