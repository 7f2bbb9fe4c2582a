"""A long-lived process's heap kept flat: its garbage in reference cycles collected on a clock.

CPython frees most objects at once, but objects in reference cycles (asyncio event loops
from async_to_sync, caught exceptions and their frames, Django query internals) wait for a
collection of the generation they sit in. Whatever lived through two collections sits in
the oldest one, which is collected in full only once the objects added there since the
last full collection reach a quarter of it, and a set-up Django worker's heap is large. A
worker loop that leaves a few cycles a round climbs for a long while before that happens
(bench/README.md, Soak benchmark, "The supervisor's climb": the runworkers supervisor and
the face process). `HeapKeeper.step()` in the loop collects every `interval_s` instead, and
`settle()` moves the start-up heap out of the collector's way (gc.freeze), so a full
collection walks only what came after start-up.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

COLLECT_EVERY_S = 60.0


def settle() -> None:
    """Call once start-up is done: what exists now (modules, settings, models) lives as long
    as the process, so later collections need not walk it again."""
    gc.collect()
    gc.freeze()


class HeapKeeper:
    """Collects the cyclic garbage of a long-lived loop every `interval_s` seconds (first at
    the first `step()` after that long)."""

    def __init__(self, *, interval_s: float = COLLECT_EVERY_S, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._due_at = clock() + interval_s
        self.collected = 0  # unreachable objects found, all collections together

    def step(self) -> bool:
        """Collect if due; True when it did."""
        now = self.clock()
        if now < self._due_at:
            return False
        self._due_at = now + self.interval_s
        self.collected += gc.collect()
        return True
