"""Reads for the playback page: a day's recordings with what the live AI saw in them, and the
boxes to draw over the recording."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from cameras.models import Camera
from core.labels import label_color
from detection.models import ObjectEvent, Source
from recordings.selectors import recorded_window

# The most the player asks boxes for at once (it asks again as it plays on).
BOXES_WINDOW_MAX = timedelta(minutes=10)
BOXES_EVENTS_MAX = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def timeline(camera: Camera, start: datetime, end: datetime) -> dict[str, Any]:
    """Everything the playback page draws for one window: recorded spans, the segments to
    play, and the detection events."""
    # What the camera's live AI saw; an analysis job's events of the same people are on its own
    # page (shown here too, they made every object twice).
    events = [
        event_row(e, start)
        for e in ObjectEvent.objects.filter(camera=camera, source=Source.LIVE)
        .select_related("camera")
        .between(start, end)
        .order_by("start", "id")[:5000]
    ]
    return recorded_window(camera, start, end) | {"events": events}


def boxes_between(camera: Camera, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Where the camera's live objects were between `start` and `end`, to draw their boxes
    on the recording: each event overlapping the range with its path (detection.track_events)."""
    if end <= start:
        raise ValidationError({"end": "The end must come after the start."})
    if end - start > BOXES_WINDOW_MAX:
        raise ValidationError({"end": f"Ask for at most {BOXES_WINDOW_MAX.seconds // 60} minutes of boxes at once."})
    events = (
        ObjectEvent.objects.filter(camera=camera, source=Source.LIVE)
        .between(start, end)
        .exclude(path=[])
        .order_by("start", "id")
        .only("id", "label", "start", "end", "path")[:BOXES_EVENTS_MAX]
    )
    return [
        {
            "id": e.id,
            "label": e.label,
            "color": label_color(e.label),
            "start": _iso(e.start),
            "end": _iso(e.end),
            "path": e.path,
        }
        for e in events
    ]


def event_row(event: ObjectEvent, origin: datetime | None = None) -> dict[str, Any]:
    row = {
        "id": event.id,
        "camera": event.camera.slug,
        "label": event.label,
        "confidence": event.confidence,
        "start": _iso(event.start),
        "end": _iso(event.end),
        "color": label_color(event.label),
        "snapshot": reverse("recordings:media", args=[event.snapshot.name]) if event.snapshot else None,
        "source": event.source,
    }
    if origin is not None:
        row["offset"] = (event.start - origin).total_seconds()
        row["end_offset"] = (event.end - origin).total_seconds() if event.end else None
    return row
