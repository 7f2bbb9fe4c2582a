"""Notifications: the two hooks the pipeline calls, and the changes the admin and the web
UI make (test notifications, resuming a channel, retrying deliveries, push subscriptions).

The hooks match rules and queue one Delivery per (rule, channel) after the caller's
transaction commits. They never wait on a channel and never raise into the caller: a
problem here costs a log line, never a detection or an attendance event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from attendance.models import AlertLog, Employee
from cameras.models import Camera
from detection.models import ObjectEvent, Source
from notifications import delivery as deliveries
from notifications.matching import OBJECT, Trigger, matches
from notifications.models import (
    AttendanceTrigger,
    Channel,
    Delivery,
    DeliveryStatus,
    PushSubscription,
    Rule,
    RuleCooldown,
)

if TYPE_CHECKING:
    from accounts.models import User

_P = ParamSpec("_P")

log = logging.getLogger(__name__)
# Face snapshots copied for attendance notifications: under a private folder (core.media).
ATTENDANCE_SNAPSHOTS = "attendance/notifications"


# --- The hooks (contracts.md) ---------------------------------------------------------
def notify_object_event(event_id: int) -> None:
    """Notify about a live ObjectEvent, once the current transaction commits."""
    _after_commit(_notify_object_event, event_id)


def notify_attendance_event(
    kind: str,
    *,
    employee_id: int | None,
    camera_id: int | None,
    at: datetime,
    alert_id: int | None = None,
    snapshot: bytes | None = None,
) -> None:
    """Notify about an attendance event ("absence", "resolved", "unknown_face", "arrived"),
    once the current transaction commits. `snapshot`: JPEG bytes of the face, if any."""
    _after_commit(
        _notify_attendance_event, kind, employee_id=employee_id, camera_id=camera_id, at=at, alert_id=alert_id,
        snapshot=snapshot,
    )  # fmt: skip


def _after_commit(func: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs) -> None:
    def run() -> None:
        try:
            func(*args, **kwargs)
        except Exception:
            log.exception("notifications: %s%s failed; nothing was sent for it", func.__name__, args)

    try:
        transaction.on_commit(run)
    except Exception:
        log.exception("notifications: could not schedule %s%s", func.__name__, args)


def camera_info(camera: Camera | None) -> dict[str, Any] | None:
    """The camera as a payload names it (kept there: the notification outlives the row)."""
    return {"id": camera.pk, "slug": camera.slug, "name": camera.name} if camera else None


def _notify_object_event(event_id: int) -> list[Delivery]:

    event = ObjectEvent.objects.select_related("camera").filter(pk=event_id).first()
    if event is None or event.source != Source.LIVE:  # analysis of old footage notifies nobody
        return []
    trigger = Trigger(kind=OBJECT, at=event.start, camera_id=event.camera_id, label=event.label,
                      confidence=event.confidence)  # fmt: skip
    payload = {
        "event": OBJECT,
        "at": event.start.isoformat(),
        "camera": camera_info(event.camera),
        "object": {"event_id": event.pk, "label": event.label, "confidence": round(event.confidence, 3),
                   "box": event.box},
    }  # fmt: skip
    return create_deliveries(trigger, payload)


def _notify_attendance_event(
    kind: str,
    *,
    employee_id: int | None,
    camera_id: int | None,
    at: datetime,
    alert_id: int | None,
    snapshot: bytes | None,
) -> list[Delivery]:

    if kind not in AttendanceTrigger.values:
        log.error("notifications: unknown attendance event kind %r", kind)
        return []
    employee = Employee.objects.filter(pk=employee_id).first() if employee_id else None
    camera = Camera.objects.filter(pk=camera_id).first() if camera_id else None
    alert = AlertLog.objects.filter(pk=alert_id).first() if alert_id else None
    # The cooldown is per event kind and employee too: "Eve is away" must not silence
    # "Eve is back" two minutes later, nor Dan's arrival Eve's.
    subject = f"{kind}:employee:{employee_id}" if employee_id else kind
    trigger = Trigger(kind=kind, at=at, camera_id=camera_id, subject=subject)
    payload = {
        "event": kind,
        "at": at.isoformat(),
        "camera": camera_info(camera),
        "employee": {"id": employee.pk, "code": employee.code, "name": employee.name} if employee else None,
        "alert": {"id": alert.pk, "message": alert.message} if alert else None,
    }
    return create_deliveries(trigger, payload, snapshot=snapshot)


# --- Matching and queueing --------------------------------------------------------------
def create_deliveries(trigger: Trigger, payload: dict[str, Any], *, snapshot: bytes | None = None) -> list[Delivery]:
    """One Delivery per (matching rule, enabled channel), after each rule's cooldown; the
    pending ones are queued once committed. Returns the deliveries made."""
    made: list[Delivery] = []
    snapshot_name = ""
    rules = Rule.objects.filter(enabled=True).prefetch_related("cameras", "channels")
    for rule in rules:
        if not matches(rule, trigger, {c.pk for c in rule.cameras.all()}):
            continue
        channels = enabled_channels(rule)
        if not channels or not claim_cooldown(rule, trigger):
            continue
        if snapshot and not snapshot_name:
            # Only attendance passes bytes (a face): stored where only admins may fetch it.
            name = f"{ATTENDANCE_SNAPSHOTS}/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}.jpg"
            snapshot_name = default_storage.save(name, ContentFile(snapshot))
        made += queue_for_rule(rule, channels, trigger.camera_id, payload, snapshot_name=snapshot_name)
    return made


def enabled_channels(rule: Rule) -> list[Channel]:
    """The rule's enabled channels (from its prefetched channels when there are)."""
    return [c for c in rule.channels.all() if c.enabled]


def queue_for_rule(
    rule: Rule, channels: list[Channel], camera_id: int | None, payload: dict[str, Any], *, snapshot_name: str = ""
) -> list[Delivery]:
    """One Delivery of `payload` per channel of `rule`, queued once committed (held on a
    channel flagged failing). The caller has matched the rule and claimed its cooldown."""
    with transaction.atomic():
        made = [
            Delivery.objects.create(
                rule=rule,
                channel=channel,
                camera_id=camera_id,
                snapshot=snapshot_name,
                payload={**payload, "rule": {"id": rule.pk, "name": rule.name}},
                status=DeliveryStatus.HELD if channel.failing else DeliveryStatus.PENDING,
                error="Held: the channel is flagged failing." if channel.failing else "",
            )  # fmt: skip
            for channel in channels
        ]
    pending = [d.pk for d in made if d.status == DeliveryStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: deliveries.enqueue(pending))
    return made


def claim_cooldown(rule: Rule, trigger: Trigger, *, now: datetime | None = None) -> bool:
    """True when the rule may notify about this camera (and subject) now, and marks it so.
    A conditional UPDATE: of two processes asking at once, one gets True."""
    now = now or timezone.now()
    key = {"rule": rule, "camera_key": trigger.camera_id or 0, "subject": trigger.subject}
    try:
        with transaction.atomic():
            _, created = RuleCooldown.objects.get_or_create(**key, defaults={"last_sent_at": now})
    except IntegrityError:  # made by another process between the get and the create
        created = False
    if created:
        return True
    free_since = now - timedelta(seconds=rule.cooldown_seconds)
    return bool(RuleCooldown.objects.filter(**key, last_sent_at__lte=free_since).update(last_sent_at=now))


# --- Admin actions ------------------------------------------------------------------------
def send_test_notification(channel: Channel) -> Delivery:
    """Queue a test notification through the channel, even one flagged failing: when it gets
    through, the flag is cleared and what the channel held is sent."""
    test = Delivery.objects.create(
        channel=channel, is_test=True, payload={"event": "test", "at": timezone.now().isoformat(), "camera": None}
    )
    transaction.on_commit(lambda: deliveries.enqueue([test.pk]))
    return test


def resume_channel(channel: Channel) -> int:
    """Clear the failing flag and send what the channel held. Returns how many were held."""
    Channel.objects.filter(pk=channel.pk).update(failing=False, consecutive_failures=0)
    held = Delivery.objects.filter(channel=channel, status=DeliveryStatus.HELD).count()
    transaction.on_commit(lambda: deliveries.release_held(channel.pk))
    return held


def retry_deliveries(queryset: QuerySet[Delivery]) -> int:
    """Send failed or held deliveries again (with a fresh set of retries)."""
    ids = list(queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.HELD]).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, rq_job_id="", claimed_until=None)
    transaction.on_commit(lambda: deliveries.enqueue(ids))
    return len(ids)


# --- Web push subscriptions ---------------------------------------------------------------
def save_push_subscription(
    user: User, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store this browser's subscription for `user`: one row per browser (endpoint), taken
    over by whoever subscribes from it last. Returns (subscription, created)."""
    return PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]}
    )


def delete_push_subscription(user: User, *, endpoint: str) -> bool:
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)
