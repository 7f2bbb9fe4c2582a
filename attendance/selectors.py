"""Reads of attendance data."""

from __future__ import annotations

from attendance.models import Employee, Presence, PresenceState


def tracking_state() -> list[dict]:
    """Every active employee's presence now: available/off, since when, where last seen."""
    employees = Employee.objects.filter(active=True).select_related("presence__last_camera").order_by("name")
    rows = []
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


def count_by_state(rows: list[dict]) -> dict[str, int]:
    counts = {state: 0 for state in PresenceState.values}
    for row in rows:
        counts[row["state"]] += 1
    return counts
