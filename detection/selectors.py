"""Reads for detection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from cameras.models import Camera
from detection.models import ObjectEvent, Source


@dataclass(frozen=True)
class CameraAI:
    """A camera's AI settings as the inference stage needs them (plain data, picklable)."""

    id: int
    slug: str
    enabled: bool
    classes: frozenset[str]
    confidence: float
    motion_gating: bool


def camera_ai_settings(camera_ids=None) -> dict[int, CameraAI]:
    """The AI settings of the enabled cameras (of `camera_ids` when given), by id. A camera
    disabled or with AI off is present with enabled=False, so its frames are skipped."""
    cameras = Camera.objects.all()
    if camera_ids is not None:
        cameras = cameras.filter(pk__in=list(camera_ids))
    return {
        c.pk: CameraAI(
            id=c.pk,
            slug=c.slug,
            enabled=c.enabled and c.ai_enabled,
            classes=frozenset(c.ai_classes or ()),
            confidence=float(c.ai_confidence),
            motion_gating=c.motion_gating,
        )
        for c in cameras.only("pk", "slug", "enabled", "ai_enabled", "ai_classes", "ai_confidence", "motion_gating")
    }


@dataclass(frozen=True)
class OpenEvent:
    """A live event that may still be going on, as detection.tracking resumes it."""

    id: int
    label: str
    start: datetime
    last_seen: datetime  # the last saved sighting (its start when none was saved)
    confidence: float
    box: tuple[float, float, float, float]


def recent_live_events(camera_id: int, since: datetime) -> list[OpenEvent]:
    """A camera's live events left open, or last seen at or after `since`: those a
    restarted inference process may continue."""
    events = ObjectEvent.objects.filter(camera_id=camera_id, source=Source.LIVE).filter(
        Q(end__isnull=True, start__gte=since) | Q(end__gte=since)
    )
    return [
        OpenEvent(e.pk, e.label, e.start, e.end or e.start, e.confidence, tuple(e.box))
        for e in events.only("pk", "label", "start", "end", "confidence", "box")
    ]
