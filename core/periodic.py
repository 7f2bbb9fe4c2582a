"""Periodic work inside a long-lived worker loop: the runworkers supervisor calls each task's
`step()` on every round (retention, expired detections, stalled analysis jobs).

Several worker hosts may share one database: the supervisor wraps every task in
`OneHostAtATime`, so each runs on one host at a time, about once per interval over all of
them. A new task gets that by being a PeriodicTask in runworkers' list."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from core.db import drop_stale_connections

log = logging.getLogger("ainvr.workers")


class PeriodicTask:
    """Calls `run()` at the first `step()`, then at most every `interval_s` seconds. A run
    that raises is logged (`logger`, `failure_message`) and tried again at the next
    interval: one bad run must not stop the loop that records the cameras."""

    logger = logging.getLogger("ainvr.workers")
    failure_message = "periodic task failed"
    # True for work about this host alone (its own processes): every host runs it then.
    on_every_host = False

    def __init__(self, *, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._due_at: float | None = None

    @property
    def name(self) -> str:
        """The task's name among the hosts (its TaskLease row)."""
        return f"{type(self).__module__}.{type(self).__qualname__}"

    def is_due(self, t: float | None = None) -> bool:
        t = self.clock() if t is None else t
        return self._due_at is None or t >= self._due_at

    def postpone(self, t: float | None = None) -> None:
        """Skip this turn: due again in `interval_s`."""
        self._due_at = (self.clock() if t is None else t) + self.interval_s

    def step(self) -> bool:
        """Run if due; True when it ran (even if it failed)."""
        t = self.clock()
        if not self.is_due(t):
            return False
        self.postpone(t)
        drop_stale_connections()  # a long-lived process: the database may have dropped us
        try:
            self.run()
        except Exception:
            self.logger.exception("%s; next attempt in %s s", self.failure_message, self.interval_s)
        return True

    def run(self) -> None:
        raise NotImplementedError


class Turns(Protocol):
    """Whose turn a shared task is (pipeline.cluster.leases.TaskTurns: a row per task)."""

    def take(self, name: str, every_s: float) -> bool: ...

    def done(self, name: str) -> None: ...


class OneHostAtATime:
    """A PeriodicTask that runs only when this host got the turn: two hosts never run it at
    once, and it runs about once per `interval_s` over all hosts. When the turn cannot be
    had (another host has it, or the database is away) this host tries again an interval later."""

    def __init__(self, task: PeriodicTask, turns: Turns):
        self.task = task
        self.turns = turns

    @property
    def name(self) -> str:
        return self.task.name

    def step(self) -> bool:
        if not self.task.is_due():
            return False
        drop_stale_connections()
        try:
            taken = self.turns.take(self.task.name, self.task.interval_s)
        except Exception:
            log.warning("%s: could not take its turn; next try in %s s", self.task.name, self.task.interval_s)
            taken = False
        if not taken:
            self.task.postpone()
            return False
        try:
            return self.task.step()
        finally:
            try:
                self.turns.done(self.task.name)
            except Exception:  # the turn lapses by itself
                log.warning("%s: could not hand its turn back", self.task.name, exc_info=True)


def one_host_at_a_time(tasks, turns: Turns) -> list:
    """Wrap each PeriodicTask (others' tasks too) for hosts sharing a database; other objects
    with a `step()` are kept as they are."""
    return [
        OneHostAtATime(task, turns) if isinstance(task, PeriodicTask) and not task.on_every_host else task
        for task in tasks
    ]
