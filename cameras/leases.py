"""Camera ownership between `runworkers` hosts sharing one database.

A host holds a camera while its lease row names it and has not expired. Claims and
renewals are conditional UPDATEs (healthchecks' habit): the database decides who got
there first, so two hosts never record the same camera.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from cameras.models import CameraLease


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def claim(camera_id: int, *, host: str, now: datetime, ttl: timedelta | None = None) -> bool:
    """Take or renew the lease of one camera. True when `host` holds it afterwards."""
    expires = now + (ttl or lease_ttl())
    taken = (
        CameraLease.objects.filter(camera_id=camera_id)
        .filter(Q(host=host) | Q(expires_at__lt=now))
        .update(host=host, expires_at=expires)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            CameraLease.objects.create(camera_id=camera_id, host=host, expires_at=expires, acquired_at=now)
    except IntegrityError:
        return False  # another host holds a live lease
    return True


def claim_all(camera_ids, *, host: str, now: datetime, ttl: timedelta | None = None) -> set[int]:
    """Claim or renew each camera; returns the ids `host` holds now.

    One conditional UPDATE renews every lease this host holds and takes every expired
    one (a supervisor does this every few seconds for all its cameras), then one read;
    only cameras with no lease row at all are created one by one."""
    ids = set(camera_ids)
    if not ids:
        return set()
    expires = now + (ttl or lease_ttl())
    CameraLease.objects.filter(camera_id__in=ids).filter(Q(host=host) | Q(expires_at__lt=now)).update(
        host=host, expires_at=expires
    )
    rows = dict(CameraLease.objects.filter(camera_id__in=ids).values_list("camera_id", "host"))
    held = {camera_id for camera_id, holder in rows.items() if holder == host}
    for camera_id in ids - set(rows):
        if claim(camera_id, host=host, now=now, ttl=ttl):
            held.add(camera_id)
    return held


def release(camera_ids, *, host: str) -> int:
    """Give cameras up (stopping, or no longer wanted) so another host may take them at once."""
    deleted, _ = CameraLease.objects.filter(camera_id__in=list(camera_ids), host=host).delete()
    return deleted


def release_all(*, host: str) -> int:
    deleted, _ = CameraLease.objects.filter(host=host).delete()
    return deleted
