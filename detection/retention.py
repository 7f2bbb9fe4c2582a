"""Retention of detected objects: a live ObjectEvent goes when its camera's footage does.

A camera's recordings are kept `Camera.retention_days`; its live events (and their snapshot
JPEGs) are kept as long, counted from when the object was last seen. Without this a site
running for months piles up rows and snapshots that point at footage long deleted, on the
disk the recordings need. Events still going on (no end yet) are never deleted, and events
found by an analysis job stay with the job's report until the job is deleted.

Snapshot files go with their rows whichever way a row is deleted (here, a camera or a job
deleted in the admin, an admin deleting events): `delete_snapshot_file` runs after the
transaction that deleted the row commits, so a rolled-back delete keeps its file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from core.periodic import PeriodicTask
from detection.models import ObjectEvent, Source

log = logging.getLogger("detection.retention")

BATCH_SIZE = 500  # rows per delete: short transactions, bounded memory for a large backlog


def delete_expired_events(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Delete every camera's live events that ended more than its retention days before
    `now`, with their snapshots; returns how many."""
    deleted = 0
    for camera_id, slug, days in Camera.objects.values_list("id", "slug", "retention_days"):
        expired = ObjectEvent.objects.filter(
            camera_id=camera_id, source=Source.LIVE, end__lt=now - timedelta(days=days)
        ).order_by("end")
        count = 0
        while ids := list(expired.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                count += ObjectEvent.objects.filter(pk__in=ids).delete()[1].get(ObjectEvent._meta.label, 0)
        if count:
            log.info("retention: %s: deleted %d detected object(s) older than %d day(s)", slug, count, days)
        deleted += count
    return deleted


def delete_snapshot_file(sender, instance: ObjectEvent, **kwargs) -> None:
    """post_delete of ObjectEvent: its snapshot leaves the disk once the delete commits."""
    name = instance.snapshot.name if instance.snapshot else ""
    if not name:
        return
    storage = instance.snapshot.storage

    def delete() -> None:
        try:
            storage.delete(name)
        except OSError as e:  # a file that cannot go must not undo what was committed
            log.warning("retention: cannot delete snapshot %s (%s)", name, e)

    transaction.on_commit(delete)


class EventRetentionTask(PeriodicTask):
    """Runs `delete_expired_events()` every `interval_s` seconds from the worker supervisor;
    the first step runs it at once."""

    logger = log
    failure_message = "retention: deleting expired detected objects failed"

    def __init__(
        self,
        *,
        interval_s: float = 600,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ):
        super().__init__(interval_s=interval_s, clock=clock)
        self.now = now
        self.last_deleted: int | None = None

    def run(self) -> None:
        self.last_deleted = delete_expired_events(now=self.now())
