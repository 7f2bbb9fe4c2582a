"""The supervisor's part among the worker hosts sharing a database: renewing its leases
(from a thread of its own too), claiming its share and handing cameras over, and stopping
its capture processes when it can no longer vouch for its leases (fencing).

A mixin of pipeline.supervisor.Supervisor, whose state it uses: `me`, `ttl`, `fence`,
`share`, `slots`, `stopping`, `handing_over`, `clock`, `now`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import DatabaseError

from core.db import drop_stale_connections
from pipeline.cluster import hosts, leases
from pipeline.cluster.fencing import stop_writers
from pipeline.specs import CameraSpec

if TYPE_CHECKING:
    from pipeline.cluster.fencing import Fence
    from pipeline.restarts import Supervised, WorkerHandle

log = logging.getLogger("ainvr.workers")


class Membership:
    # The supervisor's state this mixin uses (set in Supervisor.__init__).
    me: hosts.Identity
    host: str
    ttl: timedelta
    fence: Fence
    share: leases.Share
    slots: dict[int, Supervised[CameraSpec]]
    stopping: list[tuple[int, WorkerHandle, float]]
    handing_over: set[int]
    registered: bool
    clock: Callable[[], float]
    now: Callable[[], datetime]
    _fenced_logged: bool

    if TYPE_CHECKING:

        def _stop_slot(self, slot: Supervised[CameraSpec], *, kill_at: float | None = None) -> None: ...

    def renew(self) -> bool:
        """Heartbeat and renew this process's leases, nothing else: a thread of its own calls
        it (pipeline.cluster.fencing.Ticker) so that a long round of the loop (a retention run, a
        reconcile) does not leave the leases to the fence. True when renewed."""
        if not self.registered:
            return False
        started = self.clock()
        cameras = set(self.slots)  # what the loop runs now
        try:
            drop_stale_connections()
            wall = self.now()
            if not hosts.heartbeat(self.me, now=wall, ttl=self.ttl):
                return False  # superseded: the loop's next refresh stops everything
            held = leases.renew_all(host=self.host, instance=self.me.instance, now=wall, ttl=self.ttl)
        except DatabaseError:
            return False  # refresh() says so in the log
        if not cameras <= held:
            return False  # some were taken meanwhile (after a fence): the loop's refresh first
        self.fence.renewed(started)
        return True

    def _take_share(self, wanted: dict[int, CameraSpec], wall: datetime) -> tuple[set[int], list[int]]:
        """The cameras this process holds after claiming its share, and those to hand over."""
        weights = {camera_id: leases.camera_weight(spec) for camera_id, spec in wanted.items()}
        return self.share.take(weights, now=wall, t=self.clock(), handing_over=self.handing_over)

    def hand_over_stopped(self) -> bool:
        """Free the leases of cameras handed over once their process has closed its file:
        only then may another host start writing them."""
        if not self.handing_over:
            return False
        finishing = {camera_id for camera_id, _, _ in self.stopping}
        handed = {camera_id for camera_id in self.handing_over if camera_id not in finishing}
        if not handed:
            return False
        try:
            leases.release(handed, host=self.host, instance=self.me.instance)
        except DatabaseError:
            return False  # next round; meanwhile the leases keep others off
        self.handing_over -= handed
        return True

    def _drop_all(self) -> bool:
        """Stop every camera: this process is not (or no longer) its host's live instance."""
        changed = bool(self.slots)
        for slot in list(self.slots.values()):
            self._stop_slot(slot)
        self.slots.clear()
        self.handing_over.clear()
        return changed

    # --- fencing ------------------------------------------------------------------
    def enforce_fence(self, now: float) -> bool:
        """Past the fence (leases not renewed for lease - margin), stop every capture
        process; those still running at the kill time are killed."""
        if not self.fence.tripped(now):
            return False
        if not self.slots:
            return False
        if any(slot.handle is not None for slot in self.slots.values()) and not self._fenced_logged:
            log.error(
                "host %s: leases not renewed for %.0f s: stopping its capture processes before they expire",
                self.host,
                self.fence.ttl_s - self.fence.margin_s,
            )
            self._fenced_logged = True
        worked = False
        for slot in self.slots.values():
            if slot.handle is not None:
                self._stop_slot(slot, kill_at=self.fence.kill_at())
                worked = True
        return worked

    def guard_fence(self) -> None:
        """enforce_fence() for a watchdog thread, while step() may be stuck in a database
        call: only signals the processes (never changes the supervisor's lists)."""
        handles = [slot.handle for slot in list(self.slots.values()) if slot.handle is not None]
        handles += [handle for _, handle, _ in list(self.stopping)]
        stop_writers(self.fence, handles, self.clock())
