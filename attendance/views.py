"""Attendance pages: the live employee panel, today's attendance and the report.

Admins only: the product gives operators live video, playback and analysis, not the
whereabouts of employees."""

from __future__ import annotations

import csv
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from attendance.forms import ReportRangeForm
from attendance.selectors import attendance_report, count_by_state, open_alerts, tracking_state


def admin_only(view):
    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not (request.user.is_active and getattr(request.user, "is_admin", False)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def _today():
    return timezone.localdate()


def _panel_data() -> dict:
    rows = tracking_state()
    today = _today()
    return {
        "as_of": timezone.now(),
        "counts": count_by_state(rows),
        "employees": rows,
        "today": attendance_report(today, today),
        "alerts": open_alerts(),
    }


@admin_only
def panel(request):
    """Who is in now, since when and where last seen; today's first in / last out; open alerts."""
    return render(request, "attendance/panel.html", _panel_data())


def _iso(value):
    return value.isoformat() if value else None


@admin_only
def panel_state(request):
    """The panel's data as JSON, polled by the page (and refreshed at once on an alert)."""
    data = _panel_data()
    return JsonResponse(
        {
            "as_of": _iso(data["as_of"]),
            "counts": data["counts"],
            "employees": [
                {**row, "since": _iso(row["since"]), "last_seen": _iso(row["last_seen"])} for row in data["employees"]
            ],
            "today": [
                {
                    **row,
                    "date": row["date"].isoformat(),
                    "first_in": _iso(row["first_in"]),
                    "last_out": _iso(row["last_out"]),
                }
                for row in data["today"]
            ],
            "alerts": [
                {"id": a.pk, "employee": a.employee.name, "started": _iso(a.started), "message": a.message}
                for a in data["alerts"]
            ],
        }
    )


@admin_only
def report(request):
    """Attendance over a date range; ?format=csv downloads it."""
    today = _today()
    # The last seven days unless the query says otherwise (a bare ?format=csv included).
    form = ReportRangeForm({"date_from": today - timedelta(days=6), "date_to": today, **request.GET.dict()})
    if not form.is_valid():
        return render(request, "attendance/report.html", {"form": form, "rows": []}, status=400)
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    rows = attendance_report(start, end)
    if request.GET.get("format") == "csv":
        return _csv_response(rows, f"attendance-{start}-{end}.csv")
    return render(request, "attendance/report.html", {"form": form, "rows": rows, "start": start, "end": end})


def _csv_response(rows, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["date", "code", "name", "department", "first_in", "last_out", "hours"])
    for row in rows:
        writer.writerow(
            [
                row["date"].isoformat(),
                _safe(row["code"]),
                _safe(row["name"]),
                _safe(row["department"]),
                timezone.localtime(row["first_in"]).isoformat(timespec="seconds"),
                timezone.localtime(row["last_out"]).isoformat(timespec="seconds"),
                f"{row['hours']:.2f}",
            ]
        )
    return response


def _safe(text: str) -> str:
    """No spreadsheet formula injection from a name typed into the admin."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
