"""Reads of attendance data."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from attendance.models import AlertLog, DailyAttendance, Employee, FaceTemplate, Presence, PresenceState

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def tracking_state() -> list[dict[str, Any]]:
    """Every active employee's presence now: available/off, since when, where last seen."""
    employees = Employee.objects.filter(active=True).select_related("presence__last_camera").order_by("name")
    rows: list[dict[str, Any]] = []
    for employee in employees:
        presence = getattr(employee, "presence", None) or Presence(employee=employee)
        camera = presence.last_camera
        rows.append(
            {
                "employee_id": employee.pk,
                "code": employee.code,
                "name": employee.name,
                "department": employee.department,
                "state": presence.state,
                "since": presence.since,
                "last_seen": presence.last_seen,
                "last_camera": camera.slug if camera else None,
                "last_camera_name": camera.name if camera else None,
            }
        )
    return rows


def count_by_state(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {state: 0 for state in PresenceState.values}
    for row in rows:
        counts[row["state"]] += 1
    return counts


def roster_signature(model_name: str) -> tuple[Any, ...]:
    """Changes whenever a template of `model_name` of an active employee is added, removed
    or re-embedded, or an employee is (de)activated: the worker reloads its matrix then."""
    from django.db.models import Count, Max, Sum

    return tuple(
        FaceTemplate.objects.filter(model_name=model_name, employee__active=True)
        .aggregate(n=Count("id"), top=Max("id"), total=Sum("id"), employees=Sum("employee_id"))
        .values()
    )


def load_roster(model_name: str, dimension: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """(vectors float32 [n, dimension], employee ids [n]) of every active employee's
    templates made with `model_name`."""
    import numpy as np

    rows = list(
        FaceTemplate.objects.filter(model_name=model_name, dimension=dimension, employee__active=True)
        .order_by("employee_id", "id")
        .values_list("employee_id", "embedding")
    )
    if not rows:
        return np.zeros((0, dimension), np.float32), np.zeros(0, np.int64)
    vectors = np.stack([np.frombuffer(bytes(blob), dtype=np.float32) for _, blob in rows])
    return vectors, np.array([employee_id for employee_id, _ in rows], dtype=np.int64)


MAX_REPORT_DAYS = 366


def attendance_report(from_date: date, to_date: date, *, employee_id: int | None = None) -> list[dict[str, Any]]:
    """First in / last out per employee and local day from `from_date` to `to_date`
    (both included), oldest day first."""

    rows = DailyAttendance.objects.filter(date__gte=from_date, date__lte=to_date).select_related("employee")
    if employee_id is not None:
        rows = rows.filter(employee_id=employee_id)
    return [
        {
            "date": row.date,
            "employee_id": row.employee_id,
            "code": row.employee.code,
            "name": row.employee.name,
            "department": row.employee.department,
            "first_in": row.first_in,
            "last_out": row.last_out,
            "hours": round((row.last_out - row.first_in).total_seconds() / 3600, 2),
        }
        for row in rows.order_by("date", "employee__name")
    ]


def open_alerts(limit: int = 50) -> list[AlertLog]:

    return list(AlertLog.objects.filter(resolved__isnull=True).select_related("employee", "camera")[:limit])
