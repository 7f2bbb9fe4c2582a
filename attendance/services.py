"""Changes to attendance data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from attendance.models import AlertLog, AttendanceEvent

if TYPE_CHECKING:
    from django.db.models import QuerySet

RESET_TABLES = ("events", "alert_logs", "both")


def local_day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the configured time zone (TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class ResetMismatch(Exception):
    """The rows a reset would delete are not the number the user confirmed (the logs changed)."""

    def __init__(self, found: int, expected: int):
        super().__init__(f"{found} rows would now be deleted, not the {expected} confirmed: count again.")
        self.found, self.expected = found, expected


@transaction.atomic
def reset_logs(
    *,
    table: str,
    from_date: date | None = None,
    to_date: date | None = None,
    dry_run: bool = False,
    expected: int | None = None,
) -> dict[str, int]:
    """Delete attendance events and/or alert logs whose time falls on the days from
    `from_date` to `to_date`, both included, in the configured time zone. A missing end
    leaves that side open; both missing delete the whole table(s).

    `dry_run` counts without deleting. `expected`: the total the user confirmed; when the
    rows found differ, nothing is deleted (ResetMismatch).

    Returns {"events": n, "alert_logs": m}: the rows deleted (or found) in each table."""
    if table not in RESET_TABLES:
        raise ValueError(f"table must be one of {', '.join(RESET_TABLES)}")
    if from_date and to_date and from_date > to_date:
        raise ValueError("from_date is after to_date")

    def in_range(queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
        if from_date:
            queryset = queryset.filter(**{f"{field}__gte": local_day_start(from_date)})
        if to_date:
            queryset = queryset.filter(**{f"{field}__lt": local_day_start(to_date + timedelta(days=1))})
        return queryset

    chosen = {}
    if table in ("events", "both"):
        chosen["events"] = in_range(AttendanceEvent.objects.all(), "time")
    if table in ("alert_logs", "both"):
        chosen["alert_logs"] = in_range(AlertLog.objects.all(), "started")
    if dry_run or expected is not None:
        found = {"events": 0, "alert_logs": 0} | {name: qs.count() for name, qs in chosen.items()}
        if dry_run:
            return found
        if expected is not None and sum(found.values()) != expected:  # not a dry run: expected is set
            raise ResetMismatch(sum(found.values()), expected)
    deleted = {"events": 0, "alert_logs": 0}
    for name, queryset in chosen.items():
        deleted[name] = queryset.delete()[0]
    return deleted
