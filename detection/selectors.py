"""Reads for detection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db.models import Q, QuerySet

from cameras.models import Camera, ZoneKind
from cameras.zones import Area, AreaMap, areas
from core.model_scores import model_score_defaults
from detection.filters import ClassFilter
from detection.models import ObjectEvent, ReviewItem, ReviewMark, Severity, Source

if TYPE_CHECKING:
    from typing import TypedDict

    from django.core.paginator import Page
    from django_stubs_ext import WithAnnotations

    from accounts.models import User
    from detection.backends.base import Detection

    class _Reviewed(TypedDict):
        reviewed: bool  # whether the user marked the item (review_items)


_Rows = TypeVar("_Rows", bound=QuerySet[Any])


@dataclass(frozen=True)
class CameraAI:
    """A camera's AI settings as the inference stage needs them (plain data, picklable)."""

    id: int
    slug: str
    enabled: bool
    classes: frozenset[str]
    threshold: float  # a track is a real object when the median of its scores reaches this
    motion_gating: bool
    min_frames: int = 1  # and when it was seen in at least this many frames
    filters: tuple[ClassFilter, ...] = ()  # per-class rules (cameras.ObjectFilter)
    areas: tuple[Area, ...] = ()  # zones and masks (cameras.Zone)

    def filter_for(self, label: str) -> ClassFilter | None:
        return next((f for f in self.filters if f.label == label), None)

    @property
    def zones(self) -> tuple[Area, ...]:
        return tuple(a for a in self.areas if a.kind == ZoneKind.ZONE)

    @cached_property
    def zone_map(self) -> AreaMap:
        return AreaMap(self.zones)

    @cached_property
    def _mask_map(self) -> AreaMap:
        return AreaMap(tuple(a for a in self.areas if a.kind == ZoneKind.OBJECT_MASK))

    @property
    def motion_masks(self) -> tuple[Area, ...]:
        return tuple(a for a in self.areas if a.kind == ZoneKind.MOTION_MASK)

    def unmasked(self, found: list[Detection]) -> list[Detection]:
        """The detections (with a .box) that do not stand in one of the camera's object masks."""
        if not self._mask_map.areas or not found:
            return found
        rows = self._mask_map.inside([d.box for d in found])
        return [d for d, row in zip(found, rows, strict=True) if not any(row)]


def camera_threshold(camera: Camera) -> float:
    """The camera's event threshold: its own, or the model's calibrated one."""
    if camera.ai_confidence is not None:
        return float(camera.ai_confidence)
    return model_score_defaults().threshold


def camera_ai_settings(camera_ids: Iterable[int] | None = None) -> dict[int, CameraAI]:
    """The AI settings of the enabled cameras (of `camera_ids` when given), by id. A camera
    disabled or with AI off is present with enabled=False, so its frames are skipped."""
    model_threshold = model_score_defaults().threshold
    cameras = Camera.objects.all()
    if camera_ids is not None:
        cameras = cameras.filter(pk__in=list(camera_ids))
    return {
        c.pk: CameraAI(
            id=c.pk,
            slug=c.slug,
            enabled=c.enabled and c.ai_enabled,
            classes=frozenset(c.ai_classes or ()),
            threshold=model_threshold if c.ai_confidence is None else float(c.ai_confidence),
            motion_gating=c.motion_gating,
            min_frames=settings.DETECTOR_MIN_FRAMES,
            filters=tuple(
                ClassFilter(
                    label=f.label,
                    threshold=f.threshold,
                    min_frames=f.min_frames,
                    min_area=f.min_area / 100,
                    max_area=f.max_area / 100,
                    min_ratio=f.min_ratio,
                    max_ratio=f.max_ratio,
                )
                for f in c.object_filters.all()
            ),
            areas=areas(c.zones.all()),
        )
        for c in cameras.only(
            "pk", "slug", "enabled", "ai_enabled", "ai_classes", "ai_confidence", "motion_gating"
        ).prefetch_related("object_filters", "zones")
    }


@dataclass(frozen=True)
class OpenEvent:
    """A live event that may still be going on, as detection.track_events resumes it."""

    id: int
    label: str
    start: datetime
    last_seen: datetime  # the last saved sighting (its start when none was saved)
    confidence: float
    box: tuple[float, float, float, float]
    path: list[list[float]]  # detection.track_events.extend_path
    zones: list[str]  # the names of the zones it entered


def recent_live_events(camera_id: int, since: datetime) -> list[OpenEvent]:
    """A camera's live events left open, or last seen at or after `since`: those a
    restarted inference process may continue."""
    events = ObjectEvent.objects.filter(camera_id=camera_id, source=Source.LIVE).filter(
        Q(end__isnull=True, start__gte=since) | Q(end__gte=since)
    )
    return [
        OpenEvent(e.pk, e.label, e.start, e.end or e.start, e.confidence, tuple(e.box), e.path, e.zones)
        for e in events.only("pk", "label", "start", "end", "confidence", "box", "path", "zones")
    ]


# --- review -------------------------------------------------------------------------------
REVIEW_PAGE_SIZE = 30


@dataclass(frozen=True)
class ReviewQuery:
    """What the review page shows: one severity, optional filters, a page at a time."""

    severity: str = Severity.ALERT
    camera: str = ""  # slug
    label: str = ""
    zone: str = ""
    day: date | None = None
    reviewed: bool | None = False  # None: both
    page: int = 1


def review_items(user: User, query: ReviewQuery) -> Page[WithAnnotations[ReviewItem, _Reviewed]]:
    """The review items `query` asks for, newest first, each with `.reviewed` for `user`: a
    page of at most REVIEW_PAGE_SIZE (a Django Page)."""
    from django.core.paginator import Paginator
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    items = (
        ReviewItem.objects.filter(severity=query.severity)
        .select_related("camera", "thumbnail")
        .annotate(reviewed=Exists(ReviewMark.objects.filter(item=OuterRef("pk"), user=user)))
        .order_by("-start", "-id")
    )
    if query.camera:
        items = items.filter(camera__slug=query.camera)
    if query.label:
        items = _with_value(items, "labels", query.label)
    if query.zone:
        items = _with_value(items, "zones", query.zone)
    if query.day is not None:
        tz = timezone.get_current_timezone()
        start = datetime.combine(query.day, time.min, tzinfo=tz)
        items = items.filter(start__gte=start, start__lt=start + timedelta(days=1))
    if query.reviewed is not None:
        items = items.filter(reviewed=query.reviewed)
    return Paginator(items, REVIEW_PAGE_SIZE).get_page(query.page)


def _with_value(items: _Rows, field: str, value: str) -> _Rows:
    """Rows whose JSON list `field` holds `value`: containment on PostgreSQL; SQLite has none,
    so there the quoted value is looked for in the list's text (stored ASCII-escaped)."""
    import json

    from django.db import connection

    if connection.vendor == "postgresql":
        return items.filter(**{f"{field}__contains": [value]})
    return items.filter(**{f"{field}__icontains": json.dumps(value)})


def unreviewed_alert_count(user: User) -> int:
    """The user's alerts not marked reviewed: the number on the navigation's badge."""
    return ReviewItem.objects.filter(severity=Severity.ALERT).exclude(marks__user=user).count()


def recent_alerts(user: User, limit: int = 10) -> list[ReviewItem]:
    """The user's latest unreviewed alerts, for the alerts menu."""
    return list(
        ReviewItem.objects.filter(severity=Severity.ALERT)
        .exclude(marks__user=user)
        .select_related("camera")
        .order_by("-start", "-id")[:limit]
    )
