"""Reads for the AI analysis pages: jobs, their summary, events and activity chart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from core.labels import label_color
from detection.models import AnalysisJob, ObjectEvent


def recent_jobs(limit: int = 50) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related("camera", "requested_by").order_by("-created_at")[:limit]


def job_by_id(pk: int) -> AnalysisJob | None:
    return AnalysisJob.objects.select_related("camera", "requested_by").filter(pk=pk).first()


def media_url(name: str | None) -> str | None:
    return reverse("recordings:media", args=[name]) if name else None


def job_status(job: AnalysisJob) -> dict[str, Any]:
    """What the progress bar polls."""
    return {
        "id": job.id,
        "status": job.status,
        "status_display": job.get_status_display(),
        "progress": round(job.progress, 4),
        "percent": round(job.progress * 100),
        "error": job.error,
        "active": job.is_active,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "annotated_video": media_url(job.annotated_video),
        "events": ObjectEvent.objects.filter(job=job).count(),
    }


# Bin widths the activity chart may use: the first that gives at most MAX_BINS bins.
BIN_SECONDS = (60, 5 * 60, 15 * 60, 3600, 6 * 3600, 86400)
MAX_BINS = 120
EVENTS_PER_PAGE = 48


def job_summary(job: AnalysisJob) -> dict[str, Any]:
    """What the result page says first: what was analysed, with which model, how fast."""
    report = job.report if isinstance(job.report, dict) else {}
    footage = _number(report.get("footage_seconds"))
    took = _number(report.get("duration_seconds"))
    return {
        "camera": job.camera.name,
        "start": job.start,
        "end": job.end,
        "span_seconds": (job.end - job.start).total_seconds(),
        "model": report.get("model") or "",
        "frames_analysed": report.get("frames_analysed"),
        "footage_seconds": footage,
        "took_seconds": took,
        # How many seconds of footage one second of work got through.
        "realtime_factor": round(footage / took, 1) if footage and took else None,
        "events": ObjectEvent.objects.filter(job=job).count(),
        "events_truncated": report.get("events_truncated"),
        "report_file": media_url(report.get("report_file")),
    }


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def class_counts(job: AnalysisJob) -> list[dict[str, Any]]:
    """Events per class, most first."""
    rows = ObjectEvent.objects.filter(job=job).values("label").annotate(n=Count("id")).order_by("-n", "label")
    return [{"label": r["label"], "n": r["n"], "color": label_color(r["label"])} for r in rows]


def activity_chart(job: AnalysisJob) -> dict[str, Any]:
    """Events per class per time bin (by event start), as Chart.js wants them: the bin is
    the narrowest of BIN_SECONDS that covers the job's span in at most MAX_BINS bars."""
    span = max(1.0, (job.end - job.start).total_seconds())
    width = next((b for b in BIN_SECONDS if span / b <= MAX_BINS), BIN_SECONDS[-1])
    start = timezone.localtime(job.start)
    # Bins start on a round local time (a whole minute, hour, day).
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    origin = midnight + timedelta(seconds=((start - midnight).total_seconds() // width) * width)
    count = int(((job.end - origin).total_seconds() + width - 1) // width) or 1
    per_label: dict[str, list[int]] = {}
    for label, moment in ObjectEvent.objects.filter(job=job).values_list("label", "start").iterator():
        index = int((moment - origin).total_seconds() // width)
        if 0 <= index < count:
            per_label.setdefault(label, [0] * count)[index] += 1
    fmt = "%H:%M" if width < 86400 else "%d/%m"
    if (job.end - job.start).total_seconds() > 86400 and width < 86400:
        fmt = "%d/%m %H:%M"
    bins = [origin + timedelta(seconds=i * width) for i in range(count)]
    return {
        "bin_seconds": width,
        "bin_name": _bin_name(width),
        "labels": [timezone.localtime(b).strftime(fmt) for b in bins],
        "starts": [b.isoformat() for b in bins],
        "datasets": [
            {"label": label, "data": per_label[label], "color": label_color(label)} for label in sorted(per_label)
        ],
    }


def _bin_name(seconds: int) -> str:
    if seconds % 86400 == 0:
        return "day" if seconds == 86400 else f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    return "minute" if seconds == 60 else f"{seconds // 60} minutes"


def job_events_page(job: AnalysisJob, page: str | int | None, per_page: int = EVENTS_PER_PAGE) -> Page[ObjectEvent]:
    """One page of the job's events, in time order (a bad page number gives the first or last)."""
    events = ObjectEvent.objects.filter(job=job).order_by("start", "id")
    result = Paginator(events, per_page).get_page(page)
    result.object_list = list(result.object_list)
    for event in result.object_list:
        # Read by the template; not model fields.
        event.label_color = label_color(event.label)  # type: ignore[attr-defined]  # for the template
        event.seen_for = _duration(event.end - event.start) if event.end else ""  # type: ignore[attr-defined]  # for the template
    return result


def _duration(span: timedelta) -> str:
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
