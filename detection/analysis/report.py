"""What an analysis leaves behind: one ObjectEvent per tracked object, and the report."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone

from detection.analysis.annotate import draw_detections
from detection.analysis.sample_tracker import Track
from detection.backends.base import Detection
from detection.models import AnalysisJob, ObjectEvent, Source

SNAPSHOT_WIDTH = 640
# The job row keeps at most this many events in its report; the report file keeps them all.
REPORT_EVENTS_IN_ROW = 500


def clean_box(box) -> list[float]:
    x1, y1, x2, y2 = (min(1.0, max(0.0, float(v))) for v in box)
    return [round(min(x1, x2), 5), round(min(y1, y2), 5), round(max(x1, x2), 5), round(max(y1, y2), 5)]


def snapshot_jpeg(track: Track) -> bytes | None:
    """The best sighting's frame, at most SNAPSHOT_WIDTH wide, its box drawn."""
    if track.best_image is None:
        return None
    image = track.best_image
    if image.shape[1] > SNAPSHOT_WIDTH:
        height = round(image.shape[0] * SNAPSHOT_WIDTH / image.shape[1])
        image = cv2.resize(image, (SNAPSHOT_WIDTH, height), interpolation=cv2.INTER_AREA)
    else:
        image = np.array(image, copy=True)
    best = Detection(
        track.label, track.best_confidence, cast("tuple[float, float, float, float]", tuple(track.best_box))
    )
    draw_detections(image, [best], [track.track_id])
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data.tobytes() if ok else None


def save_event(job: AnalysisJob, track: Track) -> ObjectEvent:
    event = ObjectEvent(
        camera_id=job.camera_id,
        label=track.label,
        confidence=round(float(track.best_confidence), 4),
        box=clean_box(track.best_box),
        track_id=track.track_id,
        start=track.first_seen,
        end=track.last_seen,
        source=Source.ANALYSIS,
        job=job,
    )
    jpeg = snapshot_jpeg(track)
    if jpeg is not None:
        event.snapshot.save(f"analysis-{job.pk}-{track.track_id}.jpg", ContentFile(jpeg), save=False)
    event.save()
    track.best_image = None  # the frame is no longer needed once the snapshot is stored
    return event


def event_entry(event: ObjectEvent) -> dict:
    return {
        "id": event.pk,
        "label": event.label,
        "track_id": event.track_id,
        "start": event.start.isoformat(),
        "end": event.end.isoformat() if event.end else None,
        "confidence": event.confidence,
        "box": event.box,
        "snapshot": event.snapshot.name or None,
    }


def hour_of(moment: datetime) -> str:
    """The local hour a moment falls in, as an ISO timestamp (the histogram's key)."""
    local = timezone.localtime(moment)
    return local.replace(minute=0, second=0, microsecond=0).isoformat()


def build_report(
    job: AnalysisJob, events: list[ObjectEvent], *, stats: dict, model: str, status: str
) -> tuple[dict, dict]:
    """(report for the job row, full report for the file). Counts per class, a per-hour
    histogram per class (by event start, in the server's time zone), the events, and how
    the run went (`stats`: frames analysed, seconds, ...)."""
    counts = Counter(e.label for e in events)
    per_hour: dict[str, Counter] = defaultdict(Counter)
    for event in events:
        per_hour[hour_of(event.start)][event.label] += 1
    entries = [event_entry(e) for e in sorted(events, key=lambda e: (e.start, e.pk))]
    full = {
        "status": status,
        "camera": job.camera.slug,
        "start": job.start.isoformat(),
        "end": job.end.isoformat(),
        "classes": list(job.classes),
        "confidence": job.confidence,
        "sample_fps": job.sample_fps,
        "model": model,
        **stats,
        "counts": dict(sorted(counts.items())),
        "per_hour": {hour: dict(sorted(c.items())) for hour, c in sorted(per_hour.items())},
        "events": entries,
    }
    row = dict(full)
    if len(entries) > REPORT_EVENTS_IN_ROW:
        row["events"] = entries[:REPORT_EVENTS_IN_ROW]
        row["events_truncated"] = len(entries)
    return row, full


def write_report_file(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(path)
