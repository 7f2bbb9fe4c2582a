"""Reads for detection."""

from __future__ import annotations

from dataclasses import dataclass

from cameras.models import Camera


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
