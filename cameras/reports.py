"""What capture processes tell their supervisor, and how the supervisor writes it down.

A capture process runs without Django (no settings, no database connection): each one
would otherwise carry a whole Django installation for a status line every few seconds
and a row per segment. It sends plain tuples over its own pipe instead; the supervisor
drains every pipe each round and makes the writes. One pipe per process: a process
killed in the middle of a message can spoil only its own pipe.

Messages: ("status", camera_id, state, fields), ("segment", camera_id, ClosedSegment),
("disk_full", camera_id, recordings_root).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger("ainvr.workers")


class ReportSender:
    """The capture process's end: methods shaped like CaptureWorker's sinks."""

    def __init__(self, connection):
        self.connection = connection
        self.broken = False

    def status(self, camera_id: int, state: str, fields: dict) -> None:
        self._send(("status", camera_id, state, fields))

    def segment(self, camera_id: int, closed) -> None:
        self._send(("segment", camera_id, closed))

    def disk_full(self, camera_id: int, recordings_root) -> None:
        self._send(("disk_full", camera_id, str(recordings_root)))

    def _send(self, message: tuple) -> None:
        if self.broken:
            return
        try:
            self.connection.send(message)
        except (OSError, ValueError):
            # The supervisor is gone: the process notices and stops; the segment files
            # are on disk and the next start reconciles them.
            self.broken = True
            log.warning("camera %s: the supervisor no longer listens", message[1])


def drain(connection, apply) -> tuple[int, bool]:
    """Apply every message waiting on `connection`. Returns (messages applied, still open)."""
    applied = 0
    try:
        while connection.poll():
            message = connection.recv()
            try:
                apply(message)
            except Exception:
                log.exception("could not apply a worker report %r", message[:2])
            applied += 1
    except (EOFError, OSError):
        return applied, False
    except Exception:  # a message cut off by a killed process
        log.warning("a worker pipe held an unreadable message; dropping the rest", exc_info=True)
        return applied, False
    return applied, True


# --- the supervisor's end (Django is set up there) ---------------------------------------
def apply_report(message: tuple) -> None:
    kind = message[0]
    if kind == "status":
        _, camera_id, state, fields = message
        write_status(camera_id, state, fields)
    elif kind == "segment":
        _, camera_id, closed = message
        write_segment(camera_id, closed)
    elif kind == "disk_full":
        _, camera_id, root = message
        free_disk(camera_id, root)
    else:
        log.warning("unknown worker report %r", kind)


def write_status(camera_id: int, state: str, fields: dict) -> None:
    from cameras.services import refresh_camera_status, report_camera_status
    from core.db import drop_stale_connections

    # The supervisor lives for days: drop a connection the database has closed meanwhile.
    drop_stale_connections()
    # Most reports are refreshes (same state, new fps): one UPDATE. A change of state takes
    # the full path, which broadcasts it.
    if not refresh_camera_status(camera_id, state=state, **fields):
        report_camera_status(camera_id, state=state, **fields)


def write_segment(camera_id: int, closed) -> None:
    from datetime import UTC, datetime

    from core import metrics
    from core.db import drop_stale_connections
    from recordings.services import record_segment

    drop_stale_connections()
    record_segment(camera_id=camera_id, closed=closed)
    slug = closed.relative_path.split("/", 1)[0]
    metrics.segment_closed(slug, closed.size_bytes, (datetime.now(UTC) - closed.end).total_seconds())


def free_disk(camera_id: int, recordings_root) -> None:
    """A write failed for want of space: free at least the set minimum, and some room even
    when none is set (1 GB, or 5 % of a small disk), oldest footage first."""
    from core.db import drop_stale_connections
    from recordings.models import StorageSettings
    from recordings.retention import GB, free_space_now

    drop_stale_connections()
    recordings_root = Path(recordings_root)
    total = shutil.disk_usage(recordings_root).total
    floor = max((StorageSettings.load().min_free_gb or 0) * GB, min(1 * GB, total // 20))
    free_space_now(min_free_bytes=int(floor), root=recordings_root)
