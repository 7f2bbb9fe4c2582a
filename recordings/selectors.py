"""Reads for the playback page: segments, the day timeline and its detection markers."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cameras.models import Camera
from core.api.fields import check_day, check_moment
from detection.models import ObjectEvent, Source
from recordings.models import Segment

log = logging.getLogger("ainvr.playback")

# Two segments closer than this are one recorded span on the timeline (cuts at keyframes
# leave a few milliseconds between files).
SPAN_JOIN_S = 2.0
# The most the player asks boxes for at once (it asks again as it plays on).
BOXES_WINDOW_MAX = timedelta(minutes=10)
BOXES_EVENTS_MAX = 500
_LOST_PLUS = re.compile(r"^(\S+\d)\s(\d{2}:?\d{2})$")


def parse_moment(text: str | None, field: str) -> datetime:
    """An ISO 8601 date-time (naive means the server's time zone), or ValidationError for `field`."""
    text = (text or "").strip()
    # A "+01:00" offset put into a query string unencoded arrives as " 01:00".
    text = _LOST_PLUS.sub(r"\1+\2", text)
    value = parse_datetime(text) if text else None
    if value is None:
        raise ValidationError({field: "Give a date and time such as 2026-05-01T10:42:00."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return check_moment(value)
    except ValidationError as e:
        raise ValidationError({field: e.messages[0]}) from None


def parse_day(text: str | None) -> date:
    try:
        value = parse_date(text or "")
    except ValueError:  # well formed but impossible, such as 2026-02-30
        value = None
    if value is None:
        raise ValidationError({"date": "Give a day such as 2026-05-01."})
    try:
        return check_day(value)
    except ValidationError as e:
        raise ValidationError({"date": e.messages[0]}) from None


def day_window(day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight in the server's time zone (23 or 25 hours on DST days)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def label_color(label: str) -> str:
    """A stable colour per class, the same on every page."""
    fixed = {"person": "#e53935", "car": "#1e88e5", "truck": "#3949ab", "bicycle": "#43a047", "bus": "#8e24aa"}
    if label in fixed:
        return fixed[label]
    hue = 0
    for ch in label:  # the same hash as static/ainvr/live.js, so both pages agree
        hue = (hue * 31 + ord(ch)) % 360
    return f"hsl({hue}, 70%, 50%)"


def playback_cameras():
    return Camera.objects.order_by("name").only("id", "name", "slug")


def camera_by_slug(slug: str | None) -> Camera:
    if not slug or "\x00" in slug:
        raise ValidationError({"camera": "Choose a camera."})
    camera = Camera.objects.filter(slug=slug).first()
    if camera is None:
        raise ValidationError({"camera": f"There is no camera {slug!r}."})
    return camera


def segments_between(camera: Camera, start: datetime, end: datetime):
    return Segment.objects.filter(camera=camera).overlapping(start, end).order_by("start", "id")


def segment_by_id(pk: int) -> Segment | None:
    return Segment.objects.filter(pk=pk).first()


def mse_mime(segment: Segment) -> str | None:
    """`video/mp4; codecs="avc1.xxxxxx"` read from the file, for Media Source Extensions."""
    import av

    from cameras.live import mse_codec

    try:
        with av.open(str(Path(settings.RECORDINGS_DIR) / segment.path)) as container:
            if not container.streams.video:
                return None
            codecs = [mse_codec(container.streams.video[0])]
            if container.streams.audio and container.streams.audio[0].codec_context.name == "aac":
                codecs.append("mp4a.40.2")
    except Exception:  # a file retention just deleted, or a half-written one
        log.debug("cannot read %s", segment.path, exc_info=True)
        return None
    return 'video/mp4; codecs="{}"'.format(", ".join(codecs))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def timeline(camera: Camera, start: datetime, end: datetime) -> dict:
    """Everything the playback page draws for one window: recorded spans, the segments to
    play (with their offset in seconds from `start`), and the detection events."""
    segments = []
    spans: list[list[datetime]] = []
    mime_by_shape: dict[tuple, str | None] = {}
    for seg in segments_between(camera, start, end):
        shape = (seg.codec, seg.width, seg.height)
        if shape not in mime_by_shape:
            mime_by_shape[shape] = mse_mime(seg)
        segments.append(
            {
                "id": seg.id,
                "start": _iso(seg.start),
                "end": _iso(seg.end),
                "offset": (seg.start - start).total_seconds(),
                "duration": (seg.end - seg.start).total_seconds(),
                "url": reverse("recordings:segment", args=[seg.id]),
                "mime": mime_by_shape[shape],
            }
        )
        if spans and (seg.start - spans[-1][1]).total_seconds() <= SPAN_JOIN_S:
            spans[-1][1] = max(spans[-1][1], seg.end)
        else:
            spans.append([seg.start, seg.end])
    # What the camera's live AI saw; an analysis job's events of the same people are on its own
    # page (shown here too, they made every object twice).
    events = [
        event_row(e, start)
        for e in ObjectEvent.objects.filter(camera=camera, source=Source.LIVE)
        .select_related("camera")
        .between(start, end)
        .order_by("start", "id")[:5000]
    ]
    return {
        "camera": camera.slug,
        "start": _iso(start),
        "end": _iso(end),
        "length": (end - start).total_seconds(),
        "spans": [
            {
                "start": _iso(a),
                "end": _iso(b),
                "offset": (a - start).total_seconds(),
                "duration": (b - a).total_seconds(),
            }
            for a, b in spans
        ],
        "segments": segments,
        "events": events,
        "export_url": reverse("recordings:export"),
    }


def boxes_between(camera: Camera, start: datetime, end: datetime) -> list[dict]:
    """Where the camera's live objects were between `start` and `end`, to draw their boxes
    on the recording: each event overlapping the range with its path (detection.tracking)."""
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


def event_row(event: ObjectEvent, origin: datetime | None = None) -> dict:
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


def camera_footage(camera: Camera) -> dict:
    """What a camera has recorded: segments, bytes, first start and last end (None when none)."""
    from django.db.models import Count, Max, Min, Sum

    return Segment.objects.filter(camera=camera).aggregate(
        segments=Count("id"), bytes=Sum("size_bytes"), first=Min("start"), last=Max("end")
    )
