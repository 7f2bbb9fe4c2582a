"""Which rules a trigger (an object seen, an attendance event) sets off: pure functions of
the rule and the trigger, no database access, so every case is tested directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

OBJECT = "object"  # Trigger.kind of a detected object; attendance triggers use AttendanceTrigger values
# Health triggers use models.HealthTrigger values (kept as strings here: no model import).
HEALTH_KINDS = frozenset({"camera_offline", "storage_low", "stage_down"})


@dataclass(frozen=True)
class Trigger:
    kind: str
    at: datetime
    camera_id: int | None
    label: str = ""
    confidence: float | None = None
    # Narrows the cooldown beyond rule and camera: "<kind>:employee:<id>" for attendance
    # events, so one employee's arrival does not silence another's.
    subject: str = ""


def is_active(rule, at: datetime) -> bool:
    """True when `at`, in settings.TIME_ZONE, falls in the rule's days and time window.

    A window across midnight (22:00 until 06:00) belongs to the day it starts on: with only
    Monday ticked, Tuesday 02:00 is inside and Monday 02:00 is not."""
    local = timezone.localtime(at)
    day, now = local.weekday(), local.time()
    days = set(rule.weekdays)
    start, end = rule.active_from, rule.active_until
    if start is None or end is None or start == end:
        return day in days
    if start < end:
        return day in days and start <= now < end
    if now >= start:
        return day in days
    if now < end:
        return (day - 1) % 7 in days
    return False


def matches(rule, trigger: Trigger, camera_ids: set[int]) -> bool:
    """The rule covers the trigger's camera (no cameras chosen: all), its object class at the
    rule's confidence, its attendance event kind or its health alert kind, and the moment.
    `camera_ids` are the rule's cameras (passed in so callers can prefetch them). Health
    alerts about no camera (storage, a detector) ignore the rule's cameras."""
    if not rule.enabled:
        return False
    if trigger.kind in HEALTH_KINDS:
        if trigger.kind not in rule.health_kinds:
            return False
        if trigger.camera_id is not None and camera_ids and trigger.camera_id not in camera_ids:
            return False
        return is_active(rule, trigger.at)
    if camera_ids and trigger.camera_id not in camera_ids:
        return False
    if trigger.kind == OBJECT:
        if trigger.label not in rule.labels:
            return False
        if trigger.confidence is None or trigger.confidence < rule.min_confidence:
            return False
    elif trigger.kind not in rule.attendance_kinds:
        return False
    return is_active(rule, trigger.at)
