"""Changes to detections and analysis jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F

from cameras.models import Camera, ZoneKind
from core import metrics
from core.realtime import broadcast_on_commit, camera_group
from detection.models import ObjectEvent, ReviewItem, ReviewMark, Severity, Source
from detection.selectors import OpenEvent, recent_live_events
from detection.signals import alert_raised

if TYPE_CHECKING:
    from accounts.models import User
    from detection.track_events import ActiveTrack

log = logging.getLogger("detection")

# An object that starts within this of a review item's span joins it: one visit, one item.
REVIEW_GAP = timedelta(seconds=10)


# --- Object events (live detection) ---------------------------------------------------


def object_event_payload(event: ObjectEvent, *, ongoing: bool) -> dict[str, Any]:
    """The `detection.event` message on the camera's dashboard group. `end` is the last
    sighting so far while `ongoing` (saved every few seconds), the final one once closed."""
    return {
        "id": event.pk,
        "camera": event.camera.slug,
        "label": event.label,
        "confidence": event.confidence,
        "track_id": event.track_id,
        "start": event.start.isoformat(),
        "end": event.end.isoformat() if event.end else None,
        "ongoing": ongoing,
        "snapshot": event.snapshot.url if event.snapshot else None,
    }


def _replace_snapshot(event: ObjectEvent, jpeg: bytes) -> None:
    old = event.snapshot.name if event.snapshot else ""
    event.snapshot.save(f"event-{event.pk}.jpg", ContentFile(jpeg), save=False)
    if old and old != event.snapshot.name:
        event.snapshot.storage.delete(old)


@transaction.atomic
def start_object_event(
    *,
    camera: Camera,
    label: str,
    confidence: float,
    box: Sequence[float],
    track_id: int | None,
    at: datetime,
    snapshot: bytes | None = None,
    path: list[list[float]] | None = None,
    zones: list[str] | None = None,
) -> ObjectEvent:
    """Store a new tracked object (end empty: just seen) with its first snapshot, tell the
    camera's dashboards, and call on_event_started() once committed."""
    event = ObjectEvent(
        camera=camera,
        label=label,
        confidence=round(float(confidence), 4),
        box=[float(v) for v in box],
        track_id=track_id,
        start=at,
        end=None,
        source=Source.LIVE,
        path=path or [],
        zones=list(zones or []),
    )
    event.full_clean(exclude=["snapshot", "job"])
    event.save()
    if snapshot:
        _replace_snapshot(event, snapshot)
        event.save(update_fields=["snapshot"])
    broadcast_on_commit(camera_group(camera.slug), "detection.event", object_event_payload(event, ongoing=True))
    file_for_review(event)
    transaction.on_commit(lambda: on_event_started(event))
    return event


@transaction.atomic
def update_object_event(
    event_id: int,
    *,
    label: str,
    confidence: float,
    box: Sequence[float],
    end: datetime,
    snapshot: bytes | None = None,
    closed: bool = False,
    path: list[list[float]] | None = None,
    zones: list[str] | None = None,
) -> ObjectEvent | None:
    """Save a tracked object's last sighting (``end``) and best one (label, confidence,
    box, snapshot when given), and where it went (``path``, when given). ``closed`` marks the
    object gone: the dashboards are told. None when the event was deleted meanwhile
    (retention, an admin)."""
    event = ObjectEvent.objects.select_for_update().select_related("camera").filter(pk=event_id).first()
    if event is None:
        return None
    event.label = label
    event.confidence = round(float(confidence), 4)
    event.box = [float(v) for v in box]
    event.end = max(end, event.start)
    fields = ["label", "confidence", "box", "end"]
    if path is not None:
        event.path = path
        fields.append("path")
    if zones is not None:
        event.zones = list(zones)
        fields.append("zones")
    if snapshot:
        _replace_snapshot(event, snapshot)
        fields.append("snapshot")
    event.save(update_fields=fields)
    file_for_review(event)
    if closed:
        payload = object_event_payload(event, ongoing=False)
        broadcast_on_commit(camera_group(event.camera.slug), "detection.event", payload)
    return event


def is_alert(event: ObjectEvent) -> bool:
    """Whether a live object is an alert on its camera: of its alert classes, and in one of
    its alert zones when it has some."""
    camera = event.camera
    if event.label not in (camera.alert_classes or []):
        return False
    alert_zones = set(camera.zones.filter(kind=ZoneKind.ZONE, alert=True).values_list("name", flat=True))
    return not alert_zones or bool(alert_zones & set(event.zones))


def file_for_review(event: ObjectEvent) -> ReviewItem:
    """Put a live event in its camera's review item: the one whose span it starts within
    REVIEW_GAP of, or a new one. The item's end, labels, zones and thumbnail follow its events;
    it becomes an alert (never back) when one of them is, and the dashboards are told once."""
    item = event.review_item
    if item is None:
        item = (
            ReviewItem.objects.select_for_update()
            .filter(camera_id=event.camera_id, end__gte=event.start - REVIEW_GAP, start__lte=event.start + REVIEW_GAP)
            .order_by("-start")
            .first()
        )
    else:
        item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    seen = event.end or event.start
    if item is None:
        item = ReviewItem(camera_id=event.camera_id, start=event.start, end=seen)
    item.start, item.end = min(item.start, event.start), max(item.end, seen)
    item.labels = sorted({*item.labels, event.label})
    item.zones = sorted({*item.zones, *event.zones})
    if event.snapshot and (item.thumbnail is None or event.confidence > item.thumbnail.confidence):
        item.thumbnail = event
    became_alert = item.severity != Severity.ALERT and is_alert(event)
    if became_alert:
        item.severity = Severity.ALERT
    item.save()
    if event.review_item_id != item.pk:
        event.review_item = item
        event.save(update_fields=["review_item"])
    if became_alert:
        broadcast_on_commit(camera_group(event.camera.slug), "review.alert", review_payload(item))
        # Once an item: the object that made it an alert goes to the rules (after the commit;
        # they only enqueue).
        alert_raised.send(sender=ReviewItem, event_id=event.pk)
    return item


def review_payload(item: ReviewItem) -> dict[str, Any]:
    """The `review.alert` message: a new alert to review (names, not slugs)."""
    return {
        "id": item.pk,
        "camera": item.camera.name,
        "camera_slug": item.camera.slug,
        "labels": item.labels,
        "zones": item.zones,
        "start": item.start.isoformat(),
        "severity": item.severity,
    }


@transaction.atomic
def mark_reviewed(user: User, item_ids: Iterable[int]) -> int:
    """Mark these review items reviewed by `user` (those already marked stay as they are);
    how many were newly marked."""
    ids = set(ReviewItem.objects.filter(pk__in=list(item_ids)).values_list("pk", flat=True))
    done = set(ReviewMark.objects.filter(user=user, item_id__in=ids).values_list("item_id", flat=True))
    ReviewMark.objects.bulk_create([ReviewMark(user=user, item_id=pk) for pk in ids - done], ignore_conflicts=True)
    return len(ids - done)


def close_stale_live_events(camera_ids: Iterable[int] | None = None, *, started_before: datetime | None = None) -> int:
    """Live events a killed inference process left without an end get their start as end
    (a later sighting, had there been one, would have been saved). Called when an
    inference process starts, with `started_before` the start of the window in which the
    new process may still continue such an event (InferenceStage resumes those); returns
    how many were closed."""
    stale = ObjectEvent.objects.filter(source=Source.LIVE, end__isnull=True)
    if started_before is not None:
        stale = stale.filter(start__lt=started_before)
    if camera_ids is not None:
        stale = stale.filter(camera_id__in=list(camera_ids))
    return stale.update(end=F("start"))


def on_event_started(event: ObjectEvent) -> None:
    """Called once a new ObjectEvent is committed (after the dashboards are told): logged and
    counted. Notifications are for alerts (file_for_review), not every object."""

    log.info("object event %s: %s on camera %s", event.pk, event.label, event.camera_id)
    metrics.event(event.camera.slug, event.label)


class ObjectEventStore:
    """The database side of detection.track_events.TrackEvents (its EventStore protocol)."""

    def __init__(self, cameras_by_id: dict[int, Camera]):
        self.cameras = cameras_by_id

    def open_events(self, camera_id: int, since: datetime) -> list[OpenEvent]:
        """The camera's live events a restarted stage may continue (detection.selectors.OpenEvent)."""
        return recent_live_events(camera_id, since)

    def start(self, camera_id: int, track: ActiveTrack, snapshot: bytes | None) -> int:
        event = start_object_event(
            camera=self.cameras[camera_id],
            label=track.label,
            confidence=track.confidence,
            box=track.box,
            track_id=track.track_id,
            at=track.start,
            snapshot=snapshot,
            path=track.path,
            zones=track.presence.entered,
        )
        return event.pk

    def update(self, event_id: int, track: ActiveTrack, snapshot: bytes | None, *, closed: bool = False) -> None:
        update_object_event(
            event_id,
            label=track.label,
            confidence=track.confidence,
            box=track.box,
            end=track.last_seen,
            snapshot=snapshot,
            closed=closed,
            path=track.path,
            zones=track.presence.entered,
        )

    def close(self, event_id: int, track: ActiveTrack, snapshot: bytes | None) -> None:
        self.update(event_id, track, snapshot, closed=True)
