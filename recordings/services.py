"""Changes to recordings. The workers, retention and reconcile call these."""

from __future__ import annotations

import posixpath
from datetime import datetime
from pathlib import PurePath, PurePosixPath
from typing import TYPE_CHECKING

from django.utils import timezone

from cameras.models import Camera
from recordings.models import Segment

if TYPE_CHECKING:
    from recordings.segments import ClosedSegment

# --- Segment rows (retention / reconcile) ------------------------------------------------


def relative_recording_path(path: str | PurePath) -> str:
    """`path` as stored in Segment.path: relative to RECORDINGS_DIR, '/'-separated, normalised.

    Raises ValueError for an empty or absolute path, or one that climbs out of the root ('..').
    Purely lexical: no file is looked at.
    """
    text = path.as_posix() if isinstance(path, PurePath) else str(path)
    if not text or PurePosixPath(text).is_absolute():
        raise ValueError(f"recording path must be relative to RECORDINGS_DIR: {text!r}")
    normal = posixpath.normpath(text)
    if normal == "." or normal == ".." or normal.startswith("../"):
        raise ValueError(f"recording path is not under RECORDINGS_DIR: {text!r}")
    return normal


def create_segment_row(
    *,
    camera: Camera,
    start: datetime,
    end: datetime,
    path: str | PurePath,
    size_bytes: int,
    codec: str = "",
    width: int | None = None,
    height: int | None = None,
) -> Segment:
    """Record one closed recording file.

    `path` is relative to RECORDINGS_DIR and lies in the camera's folder
    (``<slug>/<YYYY-MM-DD>/<HH-MM-SS>.mp4``); `start` and `end` are timezone-aware and
    `end >= start`; the duration is `end - start`. Raises ValueError otherwise, and
    IntegrityError when a row for that path exists already.
    """
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("segment start and end must be timezone-aware")
    if end < start:
        raise ValueError(f"segment ends before it starts: {start.isoformat()} > {end.isoformat()}")
    if size_bytes < 0:
        raise ValueError("segment size cannot be negative")
    relative = relative_recording_path(path)
    if PurePosixPath(relative).parts[0] != camera.slug:
        raise ValueError(f"{relative!r} is not in the folder of camera {camera.slug!r}")
    return Segment.objects.create(
        camera=camera,
        start=start,
        end=end,
        duration=(end - start).total_seconds(),
        path=relative,
        size_bytes=size_bytes,
        codec=codec or "",
        width=width or None,
        height=height or None,
    )


# --- end of the segment-row block ---------------------------------------------------------


def record_segment(*, camera_id: int, closed: ClosedSegment) -> Segment:
    """The row of a file the recorder has just closed (a recordings.segments.ClosedSegment).

    Idempotent by path: if reconcile got to the file first (it may run while a writer is
    finishing, on storage shared between hosts), the row is brought up to date instead."""
    camera = Camera.objects.only("id", "slug").get(pk=camera_id)
    existing = Segment.objects.filter(path=relative_recording_path(closed.relative_path)).first()
    if existing is not None:
        existing.start, existing.end = closed.start, closed.end
        existing.duration = (closed.end - closed.start).total_seconds()
        existing.size_bytes = closed.size_bytes
        existing.save(update_fields=["start", "end", "duration", "size_bytes"])
        return existing
    return create_segment_row(
        camera=camera,
        start=closed.start,
        end=closed.end,
        path=closed.relative_path,
        size_bytes=closed.size_bytes,
        codec=closed.codec,
        width=closed.width,
        height=closed.height,
    )
