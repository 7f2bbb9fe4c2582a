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

The pool writes each stage's state (running, restarting, given up, stopped; pid, restarts,
recent exits) where the web reads it (detection.status: a Redis key per stage that expires
when the host stops writing), at each change and every few seconds, and removes the
Prometheus live gauges of a stage process as soon as it is gone.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING, Any

from core import metrics
from core.redis_client import redis_client
from detection.status import (
    RECENT_EXITS_S,
    STAGE_GIVEN_UP,
    STAGE_RESTARTING,
    STAGE_RUNNING,
    STAGE_STOPPED,
    StageStatus,
    publish_stage_statuses,
)
from pipeline.forkserver import WorkerProcess, worker_context
from pipeline.restarts import FLAP_COOLDOWN_S, FLAP_MESSAGE, Supervised, WorkerHandle

if TYPE_CHECKING:
    import redis

log = logging.getLogger("ainvr.workers")

EXIT_MISCONFIGURED = 2
FRAME_QUEUE_SIZE = 16  # frames: at 640x360 about 11 MB in flight at most
REPORT_EVERY_S = 5.0  # the stage statuses' heartbeat (their keys live detection.status.STAGE_TTL_S)


@dataclass(frozen=True)
class StageSpec:
    name: str
    entry: str  # "package.module:function"
    queue: str  # the frame queue it reads
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue_size: int = 0  # frames that may wait; 0: FRAME_QUEUE_SIZE


def stage_main(spec: StageSpec, frames: Any, stop: Event) -> None:
    """A stage process: set Django up, then run the entry function until `stop`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when we stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    os.environ["AINVR_WORKER_PROCESS"] = "1"
    import django

    django.setup()
    module, _, name = spec.entry.partition(":")
    entry = getattr(importlib.import_module(module), name)
    entry(frames, stop, **spec.kwargs)


def _stage_handle(spec: StageSpec, frames: Any) -> WorkerHandle:

    handle = WorkerProcess()
    ctx = worker_context()
    handle.stop_event = ctx.Event()
    handle.process = process = ctx.Process(target=stage_main, args=(spec, frames, handle.stop_event), name=spec.name)
    process.start()
    return handle


@dataclass
class _Record:
    """What the pool remembers of one stage for its status (Supervised holds the rest)."""

    state: str = STAGE_STOPPED
    since: float = 0.0  # wall clock
    pid: int | None = None
    restarts: int = 0
    exits: list[float] = field(default_factory=list)  # wall clock, within RECENT_EXITS_S
    last_exit_code: int | None = None


class StagePool:
    def __init__(
        self,
        specs: Iterable[StageSpec],
        *,
        spawn: Callable[[StageSpec, Any], WorkerHandle] | None = None,
        make_queue: Callable[[int], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = FRAME_QUEUE_SIZE,
        host: str | None = None,
        report: Callable[[list[StageStatus]], None] | None = None,
        wall: Callable[[], float] = time.time,
        process_gone: Callable[[int], None] | None = None,
        report_every_s: float = REPORT_EVERY_S,
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
        self.stopping: list[tuple[WorkerHandle, float]] = []  # (handle, kill deadline)
        # The host name, as the detector processes write it in their own status keys.
        self.host = host or socket.gethostname()
        self.report = report or RedisStageReport()
        self.wall = wall
        self.process_gone = process_gone or _forget_metrics
        self.report_every_s = report_every_s
        self.records = {s.name: _Record() for s in self.specs}
        self._next_report = 0.0

    def statuses(self, now: float | None = None) -> list[StageStatus]:
        """Each stage's state now, as the web reads it."""
        now = self.clock() if now is None else now
        wall = self.wall()
        statuses = []
        for name, run in self.running.items():
            record = self.records[name]
            given_up = record.state == STAGE_GIVEN_UP
            statuses.append(
                StageStatus(
                    host=self.host, name=name, queue=run.spec.queue, state=record.state, pid=record.pid,
                    restarts=record.restarts, recent_exits=tuple(t for t in record.exits if wall - t <= RECENT_EXITS_S),
                    since=record.since, last_exit_code=record.last_exit_code,
                    given_up_until=wall + max(0.0, run.restarts.gave_up_until - now) if given_up else None,
                    updated_at=wall,
                )
            )  # fmt: skip
        return statuses

    def _set_state(self, name: str, state: str, pid: int | None = None) -> bool:
        record = self.records[name]
        if record.state == state and record.pid == pid:
            return False
        record.state, record.pid, record.since = state, pid, self.wall()
        return True

    def _exited(self, name: str, code: int | None, pid: int | None) -> None:
        record = self.records[name]
        wall = self.wall()
        record.restarts += 1
        record.last_exit_code = code
        record.exits = [t for t in record.exits if wall - t <= RECENT_EXITS_S][-19:] + [wall]
        if isinstance(pid, int):
            self.process_gone(pid)

    def _publish(self, now: float, changed: bool) -> None:
        if not changed and now < self._next_report:
            return
        self._next_report = now + self.report_every_s
        try:
            self.report(self.statuses(now))
        except Exception:  # Redis away: the web sees the stages late; they run on
            log.warning("could not publish the stage statuses", exc_info=True)

    def tend(self, now: float | None = None, wanted: set[str] | None = None) -> bool:
        """Keep the stages whose queue is `wanted` (all when None) running; stop the others."""
        now = self.clock() if now is None else now
        worked = self._reap(now)
        changed = False
        for run in self.running.values():
            name = run.spec.name
            if wanted is not None and run.spec.queue not in wanted:
                if run.handle is not None:
                    log.info("stage %s: no camera needs it any more, stopping it", name)
                    self._stop(run.handle, now)
                    run.handle = None
                    worked = True
                changed |= self._set_state(name, STAGE_STOPPED)
                continue
            if run.handle is not None and not run.handle.is_alive():
                code = run.handle.exitcode
                log.warning("stage %s: process exited with code %s", name, code)
                self._exited(name, code, getattr(run.handle, "pid", None))
                run.handle = None
                run.restarts.exited(now)
                if code == EXIT_MISCONFIGURED:
                    run.restarts.gave_up_until = now + FLAP_COOLDOWN_S
                    log.error("stage %s cannot run as configured; retrying in %g minutes", name, FLAP_COOLDOWN_S / 60)
                worked = True
            if run.handle is None and run.restarts.due(now):
                if run.restarts.flapping(now):
                    log.error("stage %s %s", name, FLAP_MESSAGE)
                    changed |= self._set_state(name, STAGE_GIVEN_UP)
                    continue
                run.restarts.started(now)
                run.handle = self.spawn(run.spec, self.queues[run.spec.queue])
                log.info("stage %s: started (pid %s)", name, getattr(run.handle, "pid", "?"))
                worked = True
            elif run.handle is not None:
                run.restarts.still_running(now)
            if run.handle is not None:
                pid = getattr(run.handle, "pid", None)
                changed |= self._set_state(name, STAGE_RUNNING, pid if isinstance(pid, int) else None)
            elif now < run.restarts.gave_up_until:
                changed |= self._set_state(name, STAGE_GIVEN_UP)
            else:
                changed |= self._set_state(name, STAGE_RESTARTING)
        self._publish(now, changed)
        return worked

    def stop(self, timeout_s: float = 15.0) -> None:
        now = self.clock()
        for run in self.running.values():
            if run.handle is not None:
                self._stop(run.handle, now, timeout_s)
                run.handle = None
            self._set_state(run.spec.name, STAGE_STOPPED)
        self._publish(now, True)
        while self.stopping:
            handle, deadline = self.stopping[0]
            handle.join(max(0.05, min(0.5, deadline - self.clock())))
            self._reap(self.clock())

    def _stop(self, handle: WorkerHandle, now: float, timeout_s: float = 15.0) -> None:
        handle.request_stop()
        self.stopping.append((handle, now + timeout_s))

    def _reap(self, now: float) -> bool:
        still = []
        for handle, deadline in self.stopping:
            if not handle.is_alive():
                self._gone(handle)
                continue
            if now >= deadline:
                log.warning("a stage process did not stop in time, killing it")
                handle.kill()
                self._gone(handle)
                continue
            still.append((handle, deadline))
        reaped = len(still) != len(self.stopping)
        self.stopping = still
        return reaped

    def _gone(self, handle: WorkerHandle) -> None:
        pid = getattr(handle, "pid", None)
        if isinstance(pid, int):
            self.process_gone(pid)


class RedisStageReport:
    """Writes the stage statuses to Redis (REDIS_URL; nothing without it). The client is
    made at the first report, not when the pool is made."""

    def __init__(self, url: str | None = None):
        self.url = url
        self.client: redis.Redis | None = None

    def __call__(self, statuses: list[StageStatus]) -> None:
        if self.client is None:
            from django.conf import settings

            url = self.url or settings.REDIS_URL
            if not url:
                return
            self.client = redis_client(url)

        publish_stage_statuses(self.client, statuses)


def _forget_metrics(pid: int) -> None:
    """A stage process is gone: its live gauges (queue depth) stop counting at once."""

    metrics.process_died(pid)


def default_stages() -> list[StageSpec]:
    """The stages of a runworkers host, from the settings: the detector (one per device)
    and the face recogniser. Each runs only while a camera here needs it."""
    from django.conf import settings

    return [
        StageSpec(
            f"detector-{settings.DETECTOR_DEVICE.replace(':', '')}",
            "pipeline.processes.inference:main",
            "detection",
            queue_size=settings.DETECTOR_QUEUE,
        ),
        StageSpec("attendance", "pipeline.processes.recognition:main", "attendance"),
    ]


def _make_queue(size: int) -> Any:

    return worker_context().Queue(maxsize=size)
