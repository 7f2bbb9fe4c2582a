"""Camera ownership between `runworkers` hosts sharing one database, and their fair shares.

A host holds a camera while its lease row names it (host and process instance) and has not
expired. Claims and renewals are conditional UPDATEs (healthchecks' habit): the database
decides who got there first, so two hosts never record the same camera, and a lease is
taken from another host only once it has expired.

Shares: a camera weighs 1, plus 1 with AI detection, plus 1 with attendance (each adds a
decoding process's work). Every host reads the same rows and makes the same prediction:
a free camera goes to the least loaded live host (ties: the smaller host id), and a host
gives a camera up when another live host would still carry less with it. A camera that
has just moved stays put for a lease period, so cameras never flap between hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction

from cameras.models import CameraLease, TaskLease
from pipeline.cluster import hosts

if TYPE_CHECKING:
    from pipeline.specs import CameraSpec


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def fence_margin(ttl_s: float) -> float:
    """How long before its leases expire a host that could not renew them stops writing:
    a third of the lease, time to close its files before another host may start."""
    return max(1.0, ttl_s / 3)


def refresh_interval(ttl_s: float) -> float:
    """How often a host renews: several tries fit in the part of a lease before fencing."""
    return min(3.0, ttl_s / 4)


def camera_weight(spec: CameraSpec) -> int:
    return 1 + int(bool(spec.ai_enabled)) + int(bool(spec.attendance_enabled))


@dataclass(frozen=True)
class Lease:
    camera_id: int
    host: str
    instance: str
    expires_at: datetime
    acquired_at: datetime


def leases_of(camera_ids: Iterable[int]) -> dict[int, Lease]:
    fields = ("camera_id", "host", "instance", "expires_at", "acquired_at")
    rows = CameraLease.objects.filter(camera_id__in=list(camera_ids)).values_list(*fields)
    return {row[0]: Lease(*row) for row in rows}


def renew(camera_ids: Iterable[int], *, host: str, instance: str, now: datetime, ttl: timedelta) -> int:
    """Extend the leases this process holds (one UPDATE for all of them)."""
    return CameraLease.objects.filter(camera_id__in=list(camera_ids), host=host, instance=instance).update(
        expires_at=now + ttl
    )


def renew_all(*, host: str, instance: str, now: datetime, ttl: timedelta) -> set[int]:
    """Extend every lease this process holds (the lease keeper thread); returns their cameras."""
    own = CameraLease.objects.filter(host=host, instance=instance)
    own.update(expires_at=now + ttl)
    return set(own.values_list("camera_id", flat=True))


def claim(camera_ids: Iterable[int], *, host: str, instance: str, now: datetime, ttl: timedelta) -> set[int]:
    """Take cameras whose lease has expired or that have none. Returns those taken."""
    ids = set(camera_ids)
    if not ids:
        return set()
    expires = now + ttl
    CameraLease.objects.filter(camera_id__in=ids, expires_at__lt=now).update(
        host=host, instance=instance, expires_at=expires, acquired_at=now
    )
    rows = dict(CameraLease.objects.filter(camera_id__in=ids).values_list("camera_id", "instance"))
    taken = {camera_id for camera_id, holder in rows.items() if holder == instance}
    for camera_id in ids - set(rows):
        try:
            with transaction.atomic():
                CameraLease.objects.create(
                    camera_id=camera_id, host=host, instance=instance, expires_at=expires, acquired_at=now
                )
        except IntegrityError:
            continue  # another host was first
        taken.add(camera_id)
    return taken


def release(camera_ids: Iterable[int], *, host: str, instance: str | None = None) -> int:
    """Give cameras up (stopping, handed over, no longer wanted) so another host may take them at once."""
    leases = CameraLease.objects.filter(camera_id__in=list(camera_ids), host=host)
    if instance is not None:
        leases = leases.filter(instance=instance)
    deleted, _ = leases.delete()
    return deleted


def release_all(*, host: str, instance: str | None = None) -> int:
    leases = CameraLease.objects.filter(host=host)
    if instance is not None:
        leases = leases.filter(instance=instance)
    deleted, _ = leases.delete()
    return deleted


# --- fair shares -------------------------------------------------------------------------
@dataclass
class SharePlan:
    claim: list[int] = field(default_factory=list)
    release: list[int] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)  # predicted, after the plan


def plan_share(
    *,
    me: str,
    instance: str,
    live: Iterable[str],
    weights: dict[int, int],
    leases: dict[int, Lease],
    now: datetime,
    ttl: timedelta,
    free_for: dict[int, float] | None = None,
    grace_s: float = 6.0,
    keep_off: Iterable[int] = (),
) -> SharePlan:
    """What this host should claim and give up, from the same reads every host makes.

    `weights`: the wanted cameras; `free_for`: seconds this host has seen each free camera
    free (after `grace_s` any host takes it: the least loaded one may be dead unnoticed);
    `keep_off`: cameras this host gave up lately, not to be taken back."""
    free_for = free_for or {}
    hosts = set(live) | {me}
    loads = dict.fromkeys(hosts, 0)
    free = []
    for camera_id, weight in weights.items():
        lease = leases.get(camera_id)
        if lease is None or lease.expires_at < now:
            free.append(camera_id)
        elif lease.host in loads:
            loads[lease.host] += weight

    def lightest(among: Iterable[str]) -> str:
        return min(among, key=lambda h: (loads[h], h))

    plan = SharePlan(loads=loads)
    keep_off = set(keep_off)
    for camera_id in sorted(free, key=lambda c: (-weights[c], c)):
        target = lightest(hosts)
        waited = free_for.get(camera_id, 0.0) >= grace_s
        if camera_id in keep_off and not waited:
            target = lightest(hosts - {me}) if len(hosts) > 1 else me
        if target == me or waited:
            plan.claim.append(camera_id)
            loads[me] += weights[camera_id]
        else:
            loads[target] += weights[camera_id]  # what that host will do: our predictions agree
    others = hosts - {me}
    settled = now - ttl
    mine = [
        c
        for c, lease in leases.items()
        if c in weights and lease.instance == instance and lease.expires_at >= now and lease.acquired_at <= settled
    ]
    for camera_id in sorted(mine, key=lambda c: (-weights[c], c)):
        if not others:
            break
        target = lightest(others)
        weight = weights[camera_id]
        if loads[target] + weight < loads[me]:
            plan.release.append(camera_id)
            loads[me] -= weight
            loads[target] += weight
    return plan


class Share:
    """One process's share across rounds: it remembers since when each camera has been free
    and which cameras it handed over lately (not taken back within a lease period)."""

    def __init__(self, *, host: str, instance: str, ttl: timedelta, grace_s: float):
        self.host = host
        self.instance = instance
        self.ttl = ttl
        self.grace_s = grace_s
        self.free_since: dict[int, float] = {}
        self.handed_until: dict[int, float] = {}

    def take(
        self, weights: dict[int, int], *, now: datetime, t: float, handing_over: Iterable[int] = ()
    ) -> tuple[set[int], list[int]]:
        """Claim this host's share of `weights` (the wanted cameras). Returns the cameras it
        holds and keeps, and those to hand over. `now`: wall time; `t`: monotonic time."""
        rows = leases_of(weights)
        for camera_id in weights:
            lease = rows.get(camera_id)
            if lease is None or lease.expires_at < now:
                self.free_since.setdefault(camera_id, t)
            else:
                self.free_since.pop(camera_id, None)
        self.handed_until = {c: until for c, until in self.handed_until.items() if until > t}
        plan = plan_share(
            me=self.host,
            instance=self.instance,
            live=hosts.live_hosts(now=now, ttl=self.ttl),
            weights=weights,
            leases=rows,
            now=now,
            ttl=self.ttl,
            free_for={c: t - since for c, since in self.free_since.items() if c in weights},
            grace_s=self.grace_s,
            keep_off=self.handed_until,
        )
        taken = claim(plan.claim, host=self.host, instance=self.instance, now=now, ttl=self.ttl)
        held = {c for c, lease in rows.items() if lease.instance == self.instance and lease.expires_at >= now}
        held |= taken
        handing_over = set(handing_over)
        give = [c for c in plan.release if c in held and c not in handing_over]
        return held - set(give), give

    def handed(self, camera_id: int, t: float) -> None:
        self.handed_until[camera_id] = t + self.ttl.total_seconds()


# --- periodic tasks ----------------------------------------------------------------------
class TaskTurns:
    """Takes turns at periodic tasks with the other hosts (core.periodic.OneHostAtATime):
    a task runs where its TaskLease row was claimed, at most once per interval over all
    hosts, never on two at once. A host that dies mid-run holds it for `hold_s` at most."""

    def __init__(self, *, host: str, instance: str, now: Callable[[], datetime], hold_s: float = 900.0) -> None:
        self.host = host
        self.instance = instance
        self.now = now
        self.hold = timedelta(seconds=hold_s)

    def take(self, name: str, every_s: float) -> bool:
        now = self.now()
        TaskLease.objects.get_or_create(name=name, defaults={"due_at": now, "running_until": now})
        taken = TaskLease.objects.filter(name=name, due_at__lte=now, running_until__lte=now).update(
            host=self.host,
            instance=self.instance,
            due_at=now + timedelta(seconds=every_s),
            running_until=now + self.hold,
        )
        return taken == 1

    def done(self, name: str) -> None:
        TaskLease.objects.filter(name=name, instance=self.instance).update(running_until=self.now())
