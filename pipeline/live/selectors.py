"""Reads for the live grid and the alerts menu."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone

from attendance.models import AlertLog
from cameras.models import Camera, DashboardLayout, DashboardSlot, Zone
from detection.selectors import recent_alerts, unreviewed_alert_count

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User


@dataclass
class Tile:
    """One video on the grid: a camera over a rectangle of slots (1x1 usually)."""

    camera: Camera | None
    row: int  # 1-based CSS grid lines
    column: int
    row_span: int = 1
    column_span: int = 1
    positions: list[int] = field(default_factory=list)


def layouts() -> QuerySet[DashboardLayout]:
    return DashboardLayout.objects.order_by("-is_default", "name")


def zones_by_camera(tiles: list[Tile]) -> dict[str, list[dict[str, Any]]]:
    """The zones and masks of the cameras on the grid, by slug, for drawing over their tiles."""
    slugs = [t.camera.slug for t in tiles if t.camera is not None]
    zones: dict[str, list[dict[str, Any]]] = {slug: [] for slug in slugs}
    for zone in Zone.objects.filter(camera__slug__in=slugs).select_related("camera").order_by("kind", "name"):
        zones[zone.camera.slug].append({"name": zone.name, "kind": zone.kind, "points": zone.points})
    return zones


def grid_for(layout: DashboardLayout | None) -> tuple[int, int, list[Tile]]:
    """(columns, rows, tiles). A camera given a rectangle of adjacent slots becomes one big
    tile over them; slots left empty stay empty tiles. Without a layout: every enabled
    camera, in a grid as square as possible."""
    if layout is None:
        cameras = list(Camera.objects.enabled().with_status().order_by("name"))
        columns = max(1, math.ceil(math.sqrt(len(cameras))))
        tiles = [Tile(c, i // columns + 1, i % columns + 1, positions=[i]) for i, c in enumerate(cameras)]
        return columns, max(1, math.ceil(len(cameras) / columns)), tiles
    columns, rows = layout.columns, layout.rows
    slots = [s for s in layout.slots.select_related("camera__status").all() if s.position < layout.capacity]
    by_camera: dict[int, list[DashboardSlot]] = {}
    for slot in slots:
        if slot.camera.enabled:
            by_camera.setdefault(slot.camera_id, []).append(slot)
    tiles = []
    taken: set[int] = set()
    for camera_slots in by_camera.values():
        camera = camera_slots[0].camera
        positions = sorted(s.position for s in camera_slots)
        rows_used = [p // columns for p in positions]
        cols_used = [p % columns for p in positions]
        r0, r1, c0, c1 = min(rows_used), max(rows_used), min(cols_used), max(cols_used)
        if (r1 - r0 + 1) * (c1 - c0 + 1) == len(positions):
            tiles.append(Tile(camera, r0 + 1, c0 + 1, r1 - r0 + 1, c1 - c0 + 1, positions))
        else:  # scattered slots: the camera on each of them
            tiles.extend(Tile(camera, p // columns + 1, p % columns + 1, positions=[p]) for p in positions)
        taken.update(positions)
    for p in range(layout.capacity):
        if p not in taken:
            tiles.append(Tile(None, p // columns + 1, p % columns + 1, positions=[p]))
    tiles.sort(key=lambda t: (t.row, t.column))
    return columns, rows, tiles


def playback_link(slug: str | None, at: datetime | None) -> str | None:
    if not slug or at is None:
        return None
    return f"{reverse('playback:page')}?camera={slug}&at={at.isoformat().replace('+', '%2B')}"


def alerts_feed(user: User, *, with_employee_alerts: bool, limit: int = 20) -> dict[str, Any]:
    """The alerts menu when a page opens: the user's unreviewed alerts (their count is the
    badge) and recent employee alerts (later ones arrive over the dashboard socket).
    Employee alerts name people: attendance is for admins only."""

    since = timezone.now() - timedelta(hours=24)
    employee_alerts = AlertLog.objects.select_related("employee", "camera").filter(started__gte=since)
    if not with_employee_alerts:
        employee_alerts = employee_alerts.none()
    alerts = [
        {
            "id": a.id,
            "kind": a.kind,
            "employee": a.employee.name,
            "camera": a.camera.slug if a.camera else None,
            "started": a.started.isoformat(),
            "resolved": a.resolved.isoformat() if a.resolved else None,
            "message": a.message or f"{a.get_kind_display()}: {a.employee}",
            "url": playback_link(a.camera.slug if a.camera else None, a.started),
        }
        for a in employee_alerts[:limit]
    ]
    review = [
        {
            "id": item.id,
            "camera": item.camera.name,
            "camera_slug": item.camera.slug,
            "labels": item.labels,
            "zones": item.zones,
            "start": item.start.isoformat(),
        }
        for item in recent_alerts(user, limit)
    ]
    return {"alerts": alerts, "review": review, "unreviewed": unreviewed_alert_count(user)}
