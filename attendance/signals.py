"""What attendance tells the apps above it (notifications) without knowing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal


@dataclass(frozen=True)
class AttendanceNotice:
    """An attendance event worth notifying: "absence", "resolved", "unknown_face" or "arrived".
    `snapshot`: JPEG bytes of the face, if any."""

    kind: str
    employee_id: int | None
    camera_id: int | None
    at: datetime
    alert_id: int | None = None
    snapshot: bytes | None = None


# Sent with notice=AttendanceNotice once the transaction that made it has committed.
attendance_notice = Signal()
