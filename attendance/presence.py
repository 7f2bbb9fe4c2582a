"""Changes to presence, alerts, daily attendance and sightings, made by the recognition stage.

Every push to the dashboard (alert.created / alert.resolved) goes out after the
transaction commits; the notice to whoever listens (attendance.signals, notifications) goes out the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from attendance.models import (
    AlertKind,
    AlertLog,
    AttendanceEvent,
    DailyAttendance,
    Employee,
    EventKind,
    Presence,
    PresenceState,
)
from attendance.signals import AttendanceNotice, attendance_notice
from cameras.models import Camera
from core import metrics
from core.realtime import ALERTS_GROUP, broadcast_on_commit

log = logging.getLogger("ainvr.attendance")


def local_date(at: datetime) -> date:
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def alert_payload(alert: AlertLog) -> dict:
    try:
        url = reverse("attendance:panel")
    except NoReverseMatch:
        url = ""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "employee": alert.employee.name,
        "camera": alert.camera.slug if alert.camera_id and alert.camera is not None else None,
        "started": alert.started.isoformat(),
        "resolved": alert.resolved.isoformat() if alert.resolved else None,
        "message": alert.message,
        "url": url,
    }


def _notify_on_commit(kind: str, **kwargs) -> None:
    """Tell whoever listens (notifications) about the event once the transaction commits."""
    notice = AttendanceNotice(kind, **kwargs)

    def send():
        for receiver, error in attendance_notice.send_robust(sender=AttendanceNotice, notice=notice):
            if isinstance(error, Exception):  # a notification problem must never stop recognition
                log.warning("attendance notice %s: %s failed", kind, receiver, exc_info=error)

    transaction.on_commit(send)


@transaction.atomic
def record_presence(
    *, employee_id: int, camera_id: int | None, days: dict[date, tuple[datetime, datetime]], similarity: float | None
) -> bool:
    """The employee was seen by `camera_id` from first to last time of each local day in
    `days`. Marks them available (resolving an open absence alert), keeps last_seen, and
    widens the day's first in / last out. Returns True when they (re)arrived."""
    if not days:
        return False
    first_at = min(first for first, _ in days.values())
    last_at = max(last for _, last in days.values())
    presence, _ = Presence.objects.select_for_update().get_or_create(employee_id=employee_id)
    arrived = presence.state != PresenceState.AVAILABLE
    if arrived:
        presence.state = PresenceState.AVAILABLE
        presence.since = first_at
        AttendanceEvent.objects.create(
            employee_id=employee_id, camera_id=camera_id, time=first_at, kind=EventKind.ARRIVED, similarity=similarity
        )
        for alert in AlertLog.objects.select_for_update().filter(employee_id=employee_id, resolved__isnull=True):
            alert.resolved = first_at
            alert.save(update_fields=["resolved"])
            alert = AlertLog.objects.select_related("employee", "camera").get(pk=alert.pk)
            broadcast_on_commit(ALERTS_GROUP, "alert.resolved", alert_payload(alert))
            _notify_on_commit("resolved", employee_id=employee_id, camera_id=camera_id, at=first_at, alert_id=alert.pk)
        _notify_on_commit("arrived", employee_id=employee_id, camera_id=camera_id, at=first_at)
    if presence.last_seen is None or last_at >= presence.last_seen:
        presence.last_seen = last_at
        presence.last_camera_id = camera_id
    presence.save()
    for day, (first, last) in days.items():
        row, created = DailyAttendance.objects.select_for_update().get_or_create(
            employee_id=employee_id, date=day, defaults={"first_in": first, "last_out": last}
        )
        if not created and (first < row.first_in or last > row.last_out):
            row.first_in = min(row.first_in, first)
            row.last_out = max(row.last_out, last)
            row.save(update_fields=["first_in", "last_out"])
    return arrived


@transaction.atomic
def mark_absences(*, now: datetime, threshold_seconds: int, exclude: AbstractSet[int] = frozenset()) -> list[AlertLog]:
    """Employees available but unseen for `threshold_seconds` go off, each with an absence
    alert pushed to the dashboard. `exclude`: employees seen but not yet written."""
    cutoff = now - timedelta(seconds=threshold_seconds)
    alerts = []
    stale = (
        Presence.objects.select_for_update(of=("self",))
        .filter(state=PresenceState.AVAILABLE, last_seen__lt=cutoff)
        .exclude(employee_id__in=exclude)
        .select_related("employee", "last_camera")
    )
    for presence in stale:
        presence.state = PresenceState.OFF
        presence.since = presence.last_seen
        presence.save(update_fields=["state", "since"])
        where = f" at {presence.last_camera.name}" if presence.last_camera_id and presence.last_camera else ""
        seen = timezone.localtime(presence.last_seen).strftime("%H:%M:%S")
        alert = AlertLog.objects.create(
            employee=presence.employee,
            camera_id=presence.last_camera_id,
            kind=AlertKind.ABSENCE,
            started=now,
            message=f"{presence.employee.name} not seen for {threshold_seconds} s (last seen {seen}{where}).",
        )
        broadcast_on_commit(ALERTS_GROUP, "alert.created", alert_payload(alert))
        _notify_on_commit(
            "absence", employee_id=presence.employee_id, camera_id=presence.last_camera_id, at=now, alert_id=alert.pk
        )
        alerts.append(alert)
    return alerts


def record_sighting(
    *,
    employee_id: int | None,
    camera_id: int | None,
    at: datetime,
    similarity: float | None,
    snapshot: bytes | None = None,
) -> AttendanceEvent:
    """One sighting row (the caller rate-limits: one every few seconds per face, not per
    frame). `snapshot`, a JPEG of the face, is kept with the event."""
    from django.core.files.base import ContentFile

    kind = EventKind.SIGHTING if employee_id else EventKind.UNKNOWN
    event = AttendanceEvent(employee_id=employee_id, camera_id=camera_id, time=at, kind=kind, similarity=similarity)
    if snapshot:
        event.snapshot.save("face.jpg", ContentFile(snapshot), save=False)  # a random name (models)
    event.save()
    if employee_id is not None and camera_id is not None:
        slug = Camera.objects.filter(pk=camera_id).values_list("slug", flat=True).first()
        metrics.attendance_sighting(slug or str(camera_id))
    if employee_id is None:
        _notify_on_commit("unknown_face", employee_id=None, camera_id=camera_id, at=at, snapshot=snapshot)
    return event


PURGE_BATCH = 500  # rows per delete: short transactions, bounded memory for a large backlog


def purge_events(*, now: datetime, keep_days: int, batch_size: int = PURGE_BATCH) -> int:
    """Delete attendance events older than `keep_days` days, with their snapshot files
    (attendance.files); returns how many."""
    expired = AttendanceEvent.objects.filter(time__lt=now - timedelta(days=keep_days)).order_by("time")
    deleted = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            deleted += AttendanceEvent.objects.filter(pk__in=ids).delete()[1].get(AttendanceEvent._meta.label, 0)
    return deleted


def active_employee_ids() -> set[int]:
    return set(Employee.objects.filter(active=True).values_list("pk", flat=True))
