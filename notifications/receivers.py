"""The notifications app listens to the apps below it (connected in NotificationsConfig.ready)."""

from __future__ import annotations

from attendance.signals import AttendanceNotice
from notifications import services


def on_alert_raised(sender, *, event_id: int, **kwargs) -> None:
    services.notify_object_event(event_id)


def on_attendance_notice(sender, *, notice: AttendanceNotice, **kwargs) -> None:
    services.notify_attendance_event(
        notice.kind,
        employee_id=notice.employee_id,
        camera_id=notice.camera_id,
        at=notice.at,
        alert_id=notice.alert_id,
        snapshot=notice.snapshot,
    )
