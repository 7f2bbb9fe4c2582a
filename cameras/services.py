"""Changes to cameras and layouts. Views, the admin and the API call these."""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from cameras import secrets
from cameras.models import Camera, CameraState, CameraStatus, DashboardLayout, DashboardSlot, Zone
from cameras.streams import extract_credentials
from core.realtime import broadcast_on_commit, camera_group

UNCHANGED = object()
STATUS_FIELDS = {"last_frame_at", "fps", "width", "height", "codec", "last_error"}


@transaction.atomic
def save_camera(
    camera: Camera, *, username: str | None | object = UNCHANGED, password: str | None | object = UNCHANGED
) -> Camera:
    """Validate and save a camera.

    Credentials typed into a URL (rtsp://user:pass@host/..., or ?user=..&password=..) are
    taken out of it and kept, encrypted, in their own write-only fields; the query keys they
    came in are kept so the workers put them back the same way. `username`/`password` left
    UNCHANGED keep the stored values; an empty string clears them.
    """
    from_url: dict[str, str] = {}
    for field in ("stream_url", "detect_url"):
        split = extract_credentials(getattr(camera, field))
        setattr(camera, field, split.url)
        if split.username or split.password:
            if not from_url:  # the first URL holding credentials says how the camera takes them
                camera.username_key, camera.password_key = split.username_key, split.password_key
            from_url.setdefault("username", split.username)
            from_url.setdefault("password", split.password)
    if username is UNCHANGED and "username" in from_url:
        username = from_url["username"]
    if password is UNCHANGED and "password" in from_url:
        password = from_url["password"]
    if username is not UNCHANGED:
        camera.username = cast("str | None", username) or ""  # not the UNCHANGED sentinel
    if password is not UNCHANGED:
        camera.password = cast("str | None", password) or ""
    camera.full_clean()
    camera.save()
    CameraStatus.objects.get_or_create(camera=camera)
    return camera


@transaction.atomic
def rotate_credentials() -> int:
    """Re-encrypt every camera's credentials with the first key (SECRETS_KEY=new,old...).
    All or nothing: raises CredentialsUnreadable, naming the camera, when a stored value
    opens with none of the keys. Returns how many cameras were re-encrypted."""
    rotated = 0
    cameras = Camera.objects.select_for_update().exclude(encrypted_username="", encrypted_password="")
    for camera in cameras.order_by("pk"):
        try:
            username, password = secrets.rotate(camera.encrypted_username), secrets.rotate(camera.encrypted_password)
        except secrets.CredentialsUnreadable:
            raise secrets.CredentialsUnreadable(
                f"{secrets.MISMATCH} (camera {camera.name!r}): list the key they were encrypted with after the new "
                "one (SECRETS_KEY=new,old); nothing was changed"
            ) from None
        Camera.objects.filter(pk=camera.pk).update(encrypted_username=username, encrypted_password=password)
        rotated += 1
    return rotated


def status_payload(camera: Camera, status: CameraStatus) -> dict[str, Any]:
    return {
        "camera": camera.slug,
        "state": status.state,
        "last_frame_at": status.last_frame_at.isoformat() if status.last_frame_at else None,
        "fps": status.fps,
        "resolution": status.resolution,
        "codec": status.codec,
        "last_error": status.last_error,
    }


@transaction.atomic
def update_camera_status(camera: Camera, *, state: str, **fields: Any) -> CameraStatus:
    """Record what a worker sees of a camera and tell the dashboards after commit.

    A change of state is broadcast; a mere refresh (same state, new fps) is written
    only, so dashboards are not flooded with one message per frame."""
    if state not in CameraState.values:
        raise ValueError(f"unknown camera state {state!r}")
    unknown = set(fields) - STATUS_FIELDS
    if unknown:
        raise ValueError(f"not camera status fields: {', '.join(sorted(unknown))}")
    status, _ = CameraStatus.objects.select_for_update().get_or_create(camera=camera)
    changed = status.state != state
    status.state = state
    for name, value in fields.items():
        setattr(status, name, value)
    if state == CameraState.ONLINE and "last_frame_at" not in fields:
        status.last_frame_at = timezone.now()
    status.save()
    if changed:
        broadcast_on_commit(camera_group(camera.slug), "camera.status", status_payload(camera, status))
    return status


def refresh_camera_status(camera_id: int, *, state: str, **fields: Any) -> bool:
    """Update the status of a camera whose state has not changed, in one query, without a
    broadcast. False when the state differs (or there is no status yet): nothing written,
    use report_camera_status."""
    unknown = set(fields) - STATUS_FIELDS
    if unknown:
        raise ValueError(f"not camera status fields: {', '.join(sorted(unknown))}")
    if state == CameraState.ONLINE and "last_frame_at" not in fields:
        fields["last_frame_at"] = timezone.now()
    updated = CameraStatus.objects.filter(camera_id=camera_id, state=state).update(updated_at=timezone.now(), **fields)
    return bool(updated)


def report_camera_status(camera_id: int, *, state: str, **fields: Any) -> CameraStatus:
    """update_camera_status for a worker that knows its camera by id only."""
    camera = Camera.objects.only("id", "slug").get(pk=camera_id)
    return update_camera_status(camera, state=state, **fields)


@transaction.atomic
@transaction.atomic
def save_zone(zone: Zone) -> Zone:
    """Check and store a zone or mask; the camera's inference stage takes it up at its next
    settings refresh."""
    zone.full_clean()
    zone.save()
    return zone


def set_layout_tiles(layout: DashboardLayout, cameras: dict[int, Camera]) -> None:
    """What each tile of a saved layout shows: {position: camera}; positions not given are
    emptied. Positions must be inside the layout (0 .. capacity - 1)."""
    outside = [p for p in cameras if not 0 <= p < layout.capacity]
    if outside:
        raise ValueError(f"positions {outside} are outside a layout of {layout.capacity} tiles")
    current = {s.position: s for s in layout.slots.all()}
    for position, old in current.items():
        if position not in cameras:
            old.delete()
    for position, camera in cameras.items():
        slot = current.get(position)
        if slot is None:
            DashboardSlot.objects.create(layout=layout, position=position, camera=camera)
        elif slot.camera_id != camera.pk:
            slot.camera = camera
            slot.save(update_fields=["camera"])
