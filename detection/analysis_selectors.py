"""Reads for the AI analysis pages: jobs, their events and the per-hour chart."""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from detection.models import AnalysisJob, ObjectEvent
from recordings.selectors import label_color

CHART_W, CHART_H, CHART_PAD = 720, 220, 32


def recent_jobs(limit: int = 50):
    return AnalysisJob.objects.select_related("camera", "requested_by").order_by("-created_at")[:limit]


def job_by_id(pk: int) -> AnalysisJob | None:
    return AnalysisJob.objects.select_related("camera", "requested_by").filter(pk=pk).first()


def job_events(job: AnalysisJob, limit: int = 500):
    return ObjectEvent.objects.filter(job=job).select_related("camera").order_by("start", "id")[:limit]


def media_url(name: str | None) -> str | None:
    return reverse("recordings:media", args=[name]) if name else None


def job_status(job: AnalysisJob) -> dict:
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


def hourly_chart(job: AnalysisJob) -> dict:
    """Detections per hour per class as stacked bars, laid out for an inline SVG."""
    tz = timezone.get_current_timezone()
    rows = (
        ObjectEvent.objects.filter(job=job)
        .annotate(hour=TruncHour("start", tzinfo=tz))
        .values("hour", "label")
        .annotate(n=Count("id"))
        .order_by("hour", "label")
    )
    hours: dict = {}
    labels: dict[str, int] = {}
    for row in rows:
        hours.setdefault(row["hour"], {})[row["label"]] = row["n"]
        labels[row["label"]] = labels.get(row["label"], 0) + row["n"]
    if not hours:
        return {"bars": [], "legend": [], "width": CHART_W, "height": CHART_H, "max": 0}
    ordered = sorted(hours)
    peak = max(sum(v.values()) for v in hours.values())
    slot = (CHART_W - CHART_PAD * 2) / len(ordered)
    plot_h = CHART_H - CHART_PAD * 2
    bars = []
    for i, hour in enumerate(ordered):
        y = CHART_H - CHART_PAD
        rects = []
        for label in sorted(hours[hour]):
            n = hours[hour][label]
            h = plot_h * n / peak
            y -= h
            rects.append({"label": label, "n": n, "y": round(y, 1), "h": round(h, 1), "color": label_color(label)})
        bars.append(
            {
                "x": round(CHART_PAD + i * slot + slot * 0.1, 1),
                "w": round(slot * 0.8, 1),
                "hour": timezone.localtime(hour).strftime("%H:00"),
                "day": timezone.localtime(hour).strftime("%d/%m"),
                "label_x": round(CHART_PAD + i * slot + slot / 2, 1),
                "rects": rects,
                "total": sum(hours[hour].values()),
            }
        )
    legend = [{"label": k, "n": v, "color": label_color(k)} for k, v in sorted(labels.items())]
    return {
        "bars": bars,
        "legend": legend,
        "width": CHART_W,
        "height": CHART_H,
        "max": peak,
        "base": CHART_H - CHART_PAD,
    }


def report_rows(report) -> list[tuple[str, str]]:
    """The job's report as label/value pairs, whatever shape the pipeline gave it."""
    import json

    if not isinstance(report, dict):
        return [("report", json.dumps(report))] if report else []
    rows = []
    for key, value in report.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((str(key).replace("_", " "), text))
    return rows
