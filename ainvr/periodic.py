"""Periodic work inside a long-lived worker loop: the runworkers supervisor calls each task's
`step()` on every round (retention, expired detections, stalled analysis jobs)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ainvr.db import drop_stale_connections


class PeriodicTask:
    """Calls `run()` at the first `step()`, then at most every `interval_s` seconds. A run
    that raises is logged (`logger`, `failure_message`) and tried again at the next
    interval: one bad run must not stop the loop that records the cameras."""

    logger = logging.getLogger("ainvr.workers")
    failure_message = "periodic task failed"

    def __init__(self, *, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._due_at: float | None = None

    def step(self) -> bool:
        """Run if due; True when it ran (even if it failed)."""
        t = self.clock()
        if self._due_at is not None and t < self._due_at:
            return False
        self._due_at = t + self.interval_s
        drop_stale_connections()  # a long-lived process: the database may have dropped us
        try:
            self.run()
        except Exception:
            self.logger.exception("%s; next attempt in %s s", self.failure_message, self.interval_s)
        return True

    def run(self) -> None:
        raise NotImplementedError
