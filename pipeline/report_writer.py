"""The supervisor's end of the capture processes' reports (pipeline.reports): the writes they
ask for, made where Django is set up."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cameras.services import refresh_camera_status, report_camera_status
from core import metrics
from core.db import drop_stale_connections
from pipeline.reports import DiskFullReport, Report, SegmentReport, StatusReport
from recordings.models import StorageSettings
from recordings.retention import GB, free_space_now
from recordings.segments import ClosedSegment
from recordings.services import record_segment

log = logging.getLogger("ainvr.workers")


def apply_report(report: Report) -> None:
    match report:
        case StatusReport(camera_id, state, fields):
            write_status(camera_id, state, fields)
        case SegmentReport(camera_id, closed):
            write_segment(camera_id, closed)
        case DiskFullReport(camera_id, root):
            free_disk(camera_id, root)
        case _:
            log.warning("unknown worker report %r", type(report).__name__)


def write_status(camera_id: int, state: str, fields: dict[str, Any]) -> None:
    # The supervisor lives for days: drop a connection the database has closed meanwhile.
    drop_stale_connections()
    # Most reports are refreshes (same state, new fps): one UPDATE. A change of state takes
    # the full path, which broadcasts it.
    if not refresh_camera_status(camera_id, state=state, **fields):
        report_camera_status(camera_id, state=state, **fields)


def write_segment(camera_id: int, closed: ClosedSegment) -> None:
    drop_stale_connections()
    record_segment(camera_id=camera_id, closed=closed)
    slug = closed.relative_path.split("/", 1)[0]
    metrics.segment_closed(slug, closed.size_bytes, (datetime.now(UTC) - closed.end).total_seconds())


def free_disk(camera_id: int, recordings_root: object) -> None:
    """A write failed for want of space: free at least the set minimum, and some room even
    when none is set (1 GB, or 5 % of a small disk), oldest footage first."""
    drop_stale_connections()
    root = Path(str(recordings_root))
    total = shutil.disk_usage(root).total
    floor = max((StorageSettings.load().min_free_gb or 0) * GB, min(1 * GB, total // 20))
    free_space_now(min_free_bytes=int(floor), root=root)
