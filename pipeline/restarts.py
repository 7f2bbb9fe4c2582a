"""When to restart a worker process that died, and when to stop trying for a while."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pipeline.reconnect import Backoff

FLAP_RESTARTS = 5
FLAP_WINDOW_S = 60.0
FLAP_COOLDOWN_S = 600.0


@dataclass
class Restarts:
    """A process's restart history: backoff after each exit, and a pause of
    FLAP_COOLDOWN_S after FLAP_RESTARTS starts within FLAP_WINDOW_S (it flaps)."""

    starts: deque[float] = field(default_factory=lambda: deque(maxlen=FLAP_RESTARTS))
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=1.0, cap=30.0))
    start_at: float = 0.0
    gave_up_until: float = 0.0

    def exited(self, now: float) -> None:
        self.start_at = now + self.backoff.next_delay()

    def due(self, now: float) -> bool:
        return now >= self.start_at and now >= self.gave_up_until

    def flapping(self, now: float) -> bool:
        """True (and the pause begins) when it started too often lately."""
        recent = [t for t in self.starts if now - t <= FLAP_WINDOW_S]
        if len(recent) < FLAP_RESTARTS:
            return False
        self.gave_up_until = now + FLAP_COOLDOWN_S
        self.starts.clear()
        return True

    def started(self, now: float) -> None:
        self.starts.append(now)

    def still_running(self, now: float) -> None:
        if self.starts and now - self.starts[-1] > FLAP_WINDOW_S:
            self.backoff.reset()  # it has run a good while: the next failure starts afresh


class WorkerHandle(Protocol):
    """What the supervisors use of a worker process (pipeline.forkserver.WorkerProcess, or a
    test's fake)."""

    def is_alive(self) -> bool: ...

    @property
    def exitcode(self) -> int | None: ...

    def request_stop(self) -> None: ...

    def join(self, timeout: float) -> bool: ...

    def kill(self) -> None: ...


SpecT = TypeVar("SpecT")


@dataclass
class Supervised(Generic[SpecT]):
    """A process to keep running: what it runs, its handle while it runs, its restarts."""

    spec: SpecT
    handle: WorkerHandle | None = None
    restarts: Restarts = field(default_factory=Restarts)


FLAP_MESSAGE = (
    f"crashed {FLAP_RESTARTS} times within {FLAP_WINDOW_S:g} s; not restarting it for {FLAP_COOLDOWN_S / 60:g} minutes"
)
