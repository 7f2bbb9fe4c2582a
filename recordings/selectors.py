"""Reads of recordings: segments, what was recorded in a window, and the parsing of the
playback page's camera, day and moment."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cameras.models import Camera, CameraQuerySet
from core.api.fields import check_day, check_moment
from recordings.codecs import mse_codec
from recordings.models import Segment, SegmentQuerySet

log = logging.getLogger("ainvr.playback")

# Two segments closer than this are one recorded span on the timeline (cuts at keyframes
# leave a few milliseconds between files).
SPAN_JOIN_S = 2.0
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


def playback_cameras() -> CameraQuerySet:
    return Camera.objects.order_by("name").only("id", "name", "slug")


def camera_by_slug(slug: str | None) -> Camera:
    if not slug or "\x00" in slug:
        raise ValidationError({"camera": "Choose a camera."})
    camera = Camera.objects.filter(slug=slug).first()
    if camera is None:
        raise ValidationError({"camera": f"There is no camera {slug!r}."})
    return camera


def segments_between(camera: Camera, start: datetime, end: datetime) -> SegmentQuerySet:
    return Segment.objects.filter(camera=camera).overlapping(start, end).order_by("start", "id")


def segment_by_id(pk: int) -> Segment | None:
    return Segment.objects.filter(pk=pk).first()


def mse_mime(segment: Segment) -> str | None:
    """`video/mp4; codecs="avc1.xxxxxx"` read from the file, for Media Source Extensions."""
    import av

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


def recorded_window(camera: Camera, start: datetime, end: datetime) -> dict[str, Any]:
    """What was recorded in one window: recorded spans and the segments to play (with their
    offset in seconds from `start`)."""
    segments: list[dict[str, Any]] = []
    spans: list[list[datetime]] = []
    mime_by_shape: dict[tuple[str, int | None, int | None], str | None] = {}
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
        "export_url": reverse("recordings:export"),
    }


def camera_footage(camera: Camera) -> dict[str, Any]:
    """What a camera has recorded: segments, bytes, first start and last end (None when none)."""
    from django.db.models import Count, Max, Min, Sum

    return Segment.objects.filter(camera=camera).aggregate(
        segments=Count("id"), bytes=Sum("size_bytes"), first=Min("start"), last=Max("end")
    )
