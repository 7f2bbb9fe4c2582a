"""What capture processes tell their supervisor: one frozen dataclass per kind of report.

A capture process runs without Django (no settings, no database connection): each one
would otherwise carry a whole Django installation for a status line every few seconds
and a row per segment. It sends these reports over its own pipe instead; the supervisor
drains every pipe each round and writes them down (pipeline.report_writer). One pipe per
process: a process killed in the middle of a message can spoil only its own pipe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recordings.segments import ClosedSegment

log = logging.getLogger("ainvr.workers")


@dataclass(frozen=True)
class StatusReport:
    """The camera's state ("online", "offline", "error") and the status fields that go with it."""

    camera_id: int
    state: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class SegmentReport:
    """A segment file closed: its row is to be written."""

    camera_id: int
    closed: ClosedSegment


@dataclass(frozen=True)
class DiskFullReport:
    """A write failed for want of space under `recordings_root`."""

    camera_id: int
    recordings_root: str


Report = StatusReport | SegmentReport | DiskFullReport


class ReportSender:
    """The capture process's end: methods shaped like CaptureWorker's sinks."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.broken = False

    def status(self, camera_id: int, state: str, fields: dict[str, Any]) -> None:
        self._send(StatusReport(camera_id, state, fields))

    def segment(self, camera_id: int, closed: ClosedSegment) -> None:
        self._send(SegmentReport(camera_id, closed))

    def disk_full(self, camera_id: int, recordings_root: object) -> None:
        self._send(DiskFullReport(camera_id, str(recordings_root)))

    def _send(self, report: Report) -> None:
        if self.broken:
            return
        try:
            self.connection.send(report)
        except (OSError, ValueError):
            # The supervisor is gone: the process notices and stops; the segment files
            # are on disk and the next start reconciles them.
            self.broken = True
            log.warning("camera %s: the supervisor no longer listens", report.camera_id)


def drain(connection: Any, apply: Callable[[Report], None]) -> tuple[int, bool]:
    """Apply every report waiting on `connection`. Returns (reports applied, still open)."""
    applied = 0
    try:
        while connection.poll():
            report = connection.recv()
            try:
                apply(report)
            except Exception:
                log.exception("could not apply a worker report %r", type(report).__name__)
            applied += 1
    except (EOFError, OSError):
        return applied, False
    except Exception:  # a message cut off by a killed process
        log.warning("a worker pipe held an unreadable message; dropping the rest", exc_info=True)
        return applied, False
    return applied, True
