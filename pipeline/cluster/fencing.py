"""Fencing: a host that cannot renew its leases stops writing before they expire.

Another host may take a camera once its lease has expired. A host whose database stalled
cannot know it lost the lease, so it trusts its own monotonic clock: a lease renewed by a
round that began at `t` is good until `t + lease`; from `t + lease - margin` the host stops
its capture processes (asks them to close their files, then kills what is still running
at `t + lease - margin/2`), so no two hosts ever write one camera. A supervisor blocked in
a stalled database call cannot do it itself: a `Ticker` thread does it (and another one
renews the leases, so a long round of the loop, a retention run say, never fences a host
whose database is fine).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.restarts import WorkerHandle

log = logging.getLogger("ainvr.workers")


class Fence:
    def __init__(self, *, ttl_s: float, margin_s: float):
        self.ttl_s = ttl_s
        self.margin_s = margin_s
        self.until: float | None = None  # no lease renewed yet: nothing may write

    def renewed(self, started_at: float) -> None:
        """The leases were renewed by a round that began at `started_at` (monotonic)."""
        until = started_at + self.ttl_s - self.margin_s
        self.until = until if self.until is None else max(self.until, until)

    def tripped(self, now: float) -> bool:
        return self.until is None or now >= self.until

    def kill_at(self) -> float:
        """When a process still writing must be killed: well before the lease expires."""
        return (self.until or 0.0) + self.margin_s / 2


def stop_writers(fence: Fence, handles: Iterable[WorkerHandle], now: float) -> None:
    """Past the fence, ask every live process to stop; past the kill time, kill it."""
    if not fence.tripped(now):
        return
    for handle in handles:
        if not handle.is_alive():
            continue
        if now >= fence.kill_at():
            handle.kill()
        else:
            handle.request_stop()


class Ticker:
    """Calls `call()` every `every_s` from a daemon thread, independent of the supervisor's
    loop (which a long periodic task or a stalled database call may hold up for minutes)."""

    def __init__(self, call: Callable[[], object], *, every_s: float = 0.2, name: str = "fence-watchdog"):
        self.call = call
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every_s):
                try:
                    self.call()
                except Exception:
                    log.exception("%s failed", self._thread.name)
        finally:
            from django.db import connections

            connections.close_all()  # this thread's own connections, if it made any
