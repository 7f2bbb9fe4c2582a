"""Sending a Delivery through its channel, one attempt at a time, on the RQ `notifications`
queue: retries with backoff (rq's Retry, NOTIFICATIONS_RETRY_SECONDS), every attempt kept,
and a channel that keeps failing flagged so it holds new notifications instead of
retrying forever."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.utils import timezone

from core import metrics
from detection.models import ObjectEvent
from notifications.messages import describe
from notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.senders import DeliveryError, PermanentError, Snapshot, sender_for

log = logging.getLogger(__name__)

QUEUE = "notifications"
JOB = "notifications.jobs.deliver"
# Longer than the queue's job timeout: a claim outlives a worker killed mid-send.
CLAIM_SECONDS = 150
# A pending delivery without an RQ job this old was never queued (Redis was down): queue it.
ORPHAN_AFTER = timedelta(seconds=60)


class DeliveryBusy(Exception):
    """Another worker is sending this delivery right now; RQ retries this job later."""


def retry_policy():
    from rq import Retry

    intervals = settings.NOTIFICATIONS_RETRY_SECONDS
    return Retry(max=len(intervals), interval=intervals)


def enqueue(delivery_ids) -> int:
    """Queue one job per delivery. Returns how many were queued; a delivery that could not be
    (Redis down) stays pending without a job and is queued by a later sweep."""
    import django_rq

    queued = 0
    try:
        # "auto": enqueue now and return the job; callers already wait for their commit.
        queue = django_rq.get_queue(QUEUE, commit_mode="auto")
        for pk in delivery_ids:
            job = queue.enqueue(JOB, pk, retry=retry_policy(), result_ttl=3600, failure_ttl=7 * 86_400)
            Delivery.objects.filter(pk=pk).update(rq_job_id=job.id)
            queued += 1
    except Exception:
        log.warning("could not queue notification deliveries %s; they wait for the next sweep", delivery_ids,
                    exc_info=True)  # fmt: skip
    return queued


def requeue_orphans(limit: int = 100) -> int:
    """Queue pending deliveries that never got a job."""
    cutoff = timezone.now() - ORPHAN_AFTER
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, rq_job_id="", created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return enqueue(ids) if ids else 0


def release_held(channel_id: int) -> int:
    """Queue again what a failing channel held back (called once it works again)."""
    ids = list(Delivery.objects.filter(channel_id=channel_id, status=DeliveryStatus.HELD).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, rq_job_id="")
    return enqueue(ids)


def purge_old_deliveries() -> int:
    """Delete deliveries older than NOTIFICATIONS_KEEP_DAYS, with the snapshots stored for
    them (a snapshot shared by the deliveries of one event goes with the last of them)."""
    cutoff = timezone.now() - timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS)
    old = Delivery.objects.filter(created_at__lt=cutoff)
    names = set(old.exclude(snapshot="").values_list("snapshot", flat=True))
    _, per_model = old.delete()
    for name in names - set(Delivery.objects.filter(snapshot__in=names).values_list("snapshot", flat=True)):
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete old notification snapshot %s", name, exc_info=True)
    return per_model.get(Delivery._meta.label, 0)


def load_snapshot(delivery) -> Snapshot | None:
    """The object event's snapshot as it is now (it may have been saved after the event
    row), else the one stored with the delivery."""
    name = ""
    event_id = (delivery.payload.get("object") or {}).get("event_id")
    if event_id:
        name = ObjectEvent.objects.filter(pk=event_id).values_list("snapshot", flat=True).first() or ""
    name = name or delivery.snapshot.name
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as f:
            content = f.read()
    except OSError:
        log.warning("snapshot %s of delivery %s is gone; sending without it", name, delivery.pk)
        return None
    mimetype = "image/png" if name.lower().endswith(".png") else "image/jpeg"
    return Snapshot(filename=f"ainvr-{delivery.pk}{'.png' if mimetype == 'image/png' else '.jpg'}",
                    content=content, mimetype=mimetype)  # fmt: skip


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )


def attempt(delivery_id: int, *, last_try: bool) -> str:
    """Try to send one delivery once. Returns what happened; raises DeliveryError (or
    DeliveryBusy) when RQ should retry it. On the last try a failure is final."""
    if not _claim(delivery_id):
        status = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        if status == DeliveryStatus.PENDING and last_try:
            # No retry left for this job: let the orphan sweep queue the delivery again.
            Delivery.objects.filter(pk=delivery_id).update(rq_job_id="")
            return "busy elsewhere; left for the sweep"
        if status == DeliveryStatus.PENDING:
            raise DeliveryBusy(f"delivery {delivery_id} is being sent by another worker")
        return f"nothing to do ({status or 'deleted'})"
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    channel = delivery.channel
    if not delivery.is_test and (channel.failing or not channel.enabled):
        status = DeliveryStatus.HELD if channel.enabled else DeliveryStatus.FAILED
        error = "Held: the channel is flagged failing." if channel.enabled else "The channel was disabled."
        Delivery.objects.filter(pk=delivery.pk).update(status=status, error=error, claimed_until=None)
        return error

    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    delivery.refresh_from_db(fields=["attempts"])
    record = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=timezone.now())
    try:
        message = describe(delivery.payload)
        sender_for(channel.kind)(delivery, message, load_snapshot(delivery))
    except PermanentError as e:
        _failed(delivery, record, str(e), final=True)
        return f"failed: {e}"
    except Exception as e:
        final = last_try
        _failed(delivery, record, str(e) if isinstance(e, DeliveryError) else f"{type(e).__name__}: {e}", final=final)
        if final:
            return f"failed after {delivery.attempts} attempts: {e}"
        raise
    _sent(delivery, record)
    requeue_orphans()
    if cache.add("notifications:purged-recently", True, 3600):  # at most hourly per worker process
        purge_old_deliveries()
    return "sent"


def _sent(delivery, record) -> None:

    metrics.delivery(delivery.channel.kind, True)
    now = timezone.now()
    DeliveryAttempt.objects.filter(pk=record.pk).update(ok=True, finished_at=now)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, sent_at=now, claimed_until=None)
    was_failing = Channel.objects.filter(pk=delivery.channel_id, failing=True).update(
        failing=False, consecutive_failures=0
    )
    Channel.objects.filter(pk=delivery.channel_id).update(consecutive_failures=0)
    if was_failing:
        log.info("channel %s works again; sending what it held", delivery.channel)
        release_held(delivery.channel_id)


def _failed(delivery, record, error: str, *, final: bool) -> None:

    metrics.delivery(delivery.channel.kind, False)
    error = error[:2000]
    DeliveryAttempt.objects.filter(pk=record.pk).update(error=error, finished_at=timezone.now())
    status = DeliveryStatus.FAILED if final else DeliveryStatus.PENDING
    Delivery.objects.filter(pk=delivery.pk).update(status=status, error=error, claimed_until=None)
    Channel.objects.filter(pk=delivery.channel_id).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=error
    )
    flagged = Channel.objects.filter(
        pk=delivery.channel_id, failing=False, consecutive_failures__gte=settings.NOTIFICATIONS_FAILURE_LIMIT
    ).update(failing=True)
    log.warning("notification %s to %s failed (attempt %s%s): %s", delivery.pk, delivery.channel,
                delivery.attempts, ", final" if final else "", error)  # fmt: skip
    if flagged:
        log.error("channel %s flagged failing after %s failures in a row; holding its notifications",
                  delivery.channel, settings.NOTIFICATIONS_FAILURE_LIMIT)  # fmt: skip
