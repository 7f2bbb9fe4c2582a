"""The pipeline's shared stages: processes that serve every camera of this host (the
detector, one per device; face recognition), fed with frames by the capture processes.

A stage is named by a StageSpec: where its entry function lives, which frame queue it
reads ("detection", "attendance"), and plain keyword arguments. The StagePool starts
one process per stage, restarts one that dies with backoff, gives up for a while on one
that flaps, and stops them all at the end. Each queue is bounded: when a stage falls
behind, capture processes drop frames (counted) rather than wait, so recording never
depends on inference.

A stage runs only while some camera of this host needs its queue (a detector process
holds a model in memory: no AI camera, no detector). A stage process sets Django up
itself (it writes events), then calls `entry(<queue>, <stop event>, **kwargs)` and returns
when the event is set. Exit status 2 means "cannot run as configured" (a model file
missing, say): it is not restarted until the pause for flapping has passed.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cameras.restarts import FLAP_COOLDOWN_S, FLAP_MESSAGE, Supervised

log = logging.getLogger("ainvr.workers")

EXIT_MISCONFIGURED = 2
FRAME_QUEUE_SIZE = 16  # frames: at 640x360 about 11 MB in flight at most


@dataclass(frozen=True)
class StageSpec:
    name: str
    entry: str  # "package.module:function"
    queue: str  # the frame queue it reads
    kwargs: dict = field(default_factory=dict)
    queue_size: int = 0  # frames that may wait; 0: FRAME_QUEUE_SIZE


def stage_main(spec: StageSpec, frames, stop) -> None:
    """A stage process: set Django up, then run the entry function until `stop`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when we stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    os.environ["AINVR_WORKER_PROCESS"] = "1"
    import django

    django.setup()
    module, _, name = spec.entry.partition(":")
    entry = getattr(importlib.import_module(module), name)
    entry(frames, stop, **spec.kwargs)


def _stage_handle(spec: StageSpec, frames):
    from cameras.supervisor import WorkerProcess, worker_context

    handle = WorkerProcess()
    ctx = worker_context()
    handle.stop_event = ctx.Event()
    handle.process = ctx.Process(target=stage_main, args=(spec, frames, handle.stop_event), name=spec.name)
    handle.process.start()
    return handle


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
        self.spawn = spawn or _stage_handle
        self.clock = clock
        make_queue = make_queue or _make_queue
        # One queue per purpose, made before any capture process starts (they inherit it).
        sizes: dict[str, int] = {}
        for s in self.specs:
            sizes[s.queue] = max(sizes.get(s.queue, 0), s.queue_size or queue_size)
        self.queues = {name: make_queue(size) for name, size in sorted(sizes.items())}
        self.running = {s.name: Supervised(spec=s) for s in self.specs}
        self.stopping: list[tuple[object, float]] = []  # (handle, kill deadline)

    def tend(self, now: float | None = None, wanted: set[str] | None = None) -> bool:
        """Keep the stages whose queue is `wanted` (all when None) running; stop the others."""
        now = self.clock() if now is None else now
        worked = self._reap(now)
        for run in self.running.values():
            if wanted is not None and run.spec.queue not in wanted:
                if run.handle is not None:
                    log.info("stage %s: no camera needs it any more, stopping it", run.spec.name)
                    self._stop(run.handle, now)
                    run.handle = None
                    worked = True
                continue
            if run.handle is not None and not run.handle.is_alive():
                code = run.handle.exitcode
                log.warning("stage %s: process exited with code %s", run.spec.name, code)
                run.handle = None
                run.restarts.exited(now)
                if code == EXIT_MISCONFIGURED:
                    run.restarts.gave_up_until = now + FLAP_COOLDOWN_S
                    log.error(
                        "stage %s cannot run as configured; retrying in %g minutes", run.spec.name, FLAP_COOLDOWN_S / 60
                    )
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
        now = self.clock()
        for run in self.running.values():
            if run.handle is not None:
                self._stop(run.handle, now, timeout_s)
                run.handle = None
        while self.stopping:
            handle, deadline = self.stopping[0]
            handle.join(max(0.05, min(0.5, deadline - self.clock())))
            self._reap(self.clock())

    def _stop(self, handle, now: float, timeout_s: float = 15.0) -> None:
        handle.request_stop()
        self.stopping.append((handle, now + timeout_s))

    def _reap(self, now: float) -> bool:
        still = []
        for handle, deadline in self.stopping:
            if not handle.is_alive():
                continue
            if now >= deadline:
                log.warning("a stage process did not stop in time, killing it")
                handle.kill()
                continue
            still.append((handle, deadline))
        reaped = len(still) != len(self.stopping)
        self.stopping = still
        return reaped


def default_stages() -> list[StageSpec]:
    """The stages of a runworkers host, from the settings: the detector (one per device)
    and the face recogniser. Each runs only while a camera here needs it."""
    from django.conf import settings

    return [
        StageSpec(
            f"detector-{settings.DETECTOR_DEVICE.replace(':', '')}",
            "detection.process:run_inference_process",
            "detection",
            queue_size=settings.DETECTOR_QUEUE,
        ),
        StageSpec("attendance", "attendance.recognition.worker:attendance_main", "attendance"),
    ]


def _make_queue(size: int):
    from cameras.supervisor import worker_context

    return worker_context().Queue(maxsize=size)
