"""Reconcile: make the Segment rows and the files on disk agree again.

A capture process killed with `kill -9` leaves its last file without a row (rows come when
a file is closed), and a crash of retention between deleting a file and its row leaves a
row without a file. `reconcile_recordings()` fixes both. It is idempotent.

Several worker hosts share RECORDINGS_DIR: a host reconciles only the cameras it holds,
once it holds them, and with `settled_s` only files nobody has written to for that long
(the file another host is writing is fresh: it gets a fragment every second). The
supervisor runs it for each camera it takes over a segment's length (+ a margin) later,
which registers what a crashed host left half-written; and at once, unfiltered, for its
own camera when the capture process died.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import IntegrityError, transaction

from cameras.models import Camera
from core.db import drop_stale_connections
from recordings.media_info import UnreadableRecording, probe_recording
from recordings.models import Segment
from recordings.services import create_segment_row

log = logging.getLogger("ainvr.reconcile")

DAMAGED_FOLDER = "_damaged"
DATE_FOLDER = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
FILE_NAME = re.compile(r"(\d{2})-(\d{2})-(\d{2})(?:-\d+)?\.mp4")
CHUNK = 500  # paths per query


@dataclass
class ReconcileReport:
    created: int = 0  # rows made for files that had none
    deleted_files: int = 0  # files holding no complete video packet
    damaged: int = 0  # unreadable files moved to <root>/_damaged
    deleted_rows: int = 0  # rows whose file was missing
    errors: int = 0
    unknown_folders: list[str] = field(default_factory=list)  # not a camera's: left alone


def start_from_name(date_folder: str, file_name: str) -> datetime | None:
    """The UTC start a file's place says: ``2026-11-22/03-40-10.mp4`` (or ``03-40-10-2.mp4``)."""
    day, time_of_day = DATE_FOLDER.fullmatch(date_folder), FILE_NAME.fullmatch(file_name)
    if day is None or time_of_day is None:
        return None
    try:
        year, month, day_of_month = (int(v) for v in day.groups())
        hour, minute, second = (int(v) for v in time_of_day.groups())
        return datetime(year, month, day_of_month, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


class _Reconciler:
    def __init__(self, root: Path, report: ReconcileReport, *, written_before: float | None = None):
        self.root = root
        self.report = report
        self.written_before = written_before  # a Unix time: files modified later are left alone

    # --- files without rows ----------------------------------------------------------
    def add_missing_rows(self, camera: Camera) -> None:
        camera_dir = self.root / camera.slug
        if not camera_dir.is_dir():
            return
        for day_dir in sorted(camera_dir.iterdir()):
            if not day_dir.is_dir() or not DATE_FOLDER.fullmatch(day_dir.name):
                continue
            names = sorted(e.name for e in os.scandir(day_dir) if e.name.endswith(".mp4") and self._settled(e))
            for i in range(0, len(names), CHUNK):
                chunk = {f"{camera.slug}/{day_dir.name}/{name}": name for name in names[i : i + CHUNK]}
                known = set(Segment.objects.filter(path__in=list(chunk)).values_list("path", flat=True))
                for relative, name in chunk.items():
                    if relative not in known:
                        self._add_row(camera, day_dir / name, relative)

    def _settled(self, entry: os.DirEntry) -> bool:
        """A file, and (with `written_before`) one nobody is writing: a writer touches its
        file every second, so an older mtime means it is finished or abandoned."""
        try:
            if not entry.is_file():
                return False
            return self.written_before is None or entry.stat().st_mtime < self.written_before
        except FileNotFoundError:
            return False  # gone meanwhile (retention)

    def _add_row(self, camera: Camera, file: Path, relative: str) -> None:
        try:
            probe = probe_recording(file)
        except UnreadableRecording as e:
            self._move_aside(file, relative, e)
            return
        except OSError as e:
            self.report.errors += 1
            log.error("reconcile: cannot read %s: %s; left alone", relative, e)
            return
        if probe is None:
            file.unlink(missing_ok=True)
            self.report.deleted_files += 1
            log.warning("reconcile: deleted %s: no complete video frame in it", relative)
            return
        size = file.stat().st_size
        start = probe.start or start_from_name(file.parent.name, file.name)
        if start is None:
            mtime = datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)
            start = mtime - timedelta(seconds=probe.duration)
            log.warning("reconcile: %s has no start in its metadata or name; taken from its mtime", relative)
        try:
            with transaction.atomic():  # a savepoint: a row made meanwhile by a writer must not break the run
                create_segment_row(
                    camera=camera,
                    start=start,
                    end=start + timedelta(seconds=probe.duration),
                    path=relative,
                    size_bytes=size,
                    codec=probe.codec,
                    width=probe.width,
                    height=probe.height,
                )
        except (ValueError, IntegrityError) as e:
            self.report.errors += 1
            log.error("reconcile: no row for %s: %s", relative, e)
            return
        self.report.created += 1
        log.info(
            "reconcile: added %s (%s, %.3f s, %s %sx%s, %d bytes)",
            relative,
            start.isoformat(),
            probe.duration,
            probe.codec,
            probe.width,
            probe.height,
            size,
        )

    def _move_aside(self, file: Path, relative: str, error: Exception) -> None:
        """Unreadable files are evidence too: moved out of the way, never deleted."""
        target = self.root / DAMAGED_FOLDER / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            n = 2
            while True:  # link, never overwrite: a name taken meanwhile is skipped
                try:
                    os.link(file, target)
                    break
                except FileExistsError:
                    target = target.with_name(f"{file.stem}.{n}{file.suffix}")
                    n += 1
            os.unlink(file)
        except OSError as e:
            self.report.errors += 1
            log.error("reconcile: %s is unreadable (%s) and could not be moved aside: %s", relative, error, e)
            return
        self.report.damaged += 1
        log.warning("reconcile: %s is unreadable (%s); moved to %s", relative, error, target.relative_to(self.root))

    # --- rows without files ----------------------------------------------------------
    def delete_orphan_rows(self, camera: Camera) -> None:
        rows = Segment.objects.filter(camera=camera).order_by("path")
        if not (self.root / camera.slug).is_dir():
            if rows.exists():
                # Most likely the recordings disk is not mounted: deleting every row would lose the index.
                self.report.errors += 1
                log.error("reconcile: %s has recordings but no folder in %s; rows kept", camera.slug, self.root)
            return
        listings: dict[Path, set[str]] = {}
        last_path = None
        while True:
            page = rows.filter(path__gt=last_path) if last_path is not None else rows
            batch = list(page.values_list("id", "path")[:CHUNK])
            if not batch:
                return
            last_path = batch[-1][1]
            missing = [(pk, path) for pk, path in batch if not self._exists(path, listings)]
            if len(listings) > 64:
                listings.clear()
            if missing:
                Segment.objects.filter(pk__in=[pk for pk, _ in missing]).delete()
                self.report.deleted_rows += len(missing)
                for _, path in missing:
                    log.warning("reconcile: deleted the row of %s: the file is missing", path)

    def _exists(self, relative: str, listings: dict[Path, set[str]]) -> bool:
        """Whether the file is there; one directory listing per folder, not one stat per row."""
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            return True  # not a path of ours: leave the row alone
        file = self.root.joinpath(*parts)
        if file.parent not in listings:
            try:
                listings[file.parent] = {entry.name for entry in os.scandir(file.parent)}
            except FileNotFoundError:
                listings[file.parent] = set()
        return file.name in listings[file.parent]


def reconcile_recordings(
    *,
    root: Path | None = None,
    cameras: Iterable[Camera] | None = None,
    settled_s: float | None = None,
    clock=time.time,
) -> ReconcileReport:
    """Give every recording file of a known camera a row, and drop rows whose file is gone.

    `cameras` limits the work to those cameras (default: all, enabled or not): on a worker
    host, the ones it holds. `settled_s`: only files last written more than that many
    seconds ago (others may be being written); None for all of them, only when no process
    can be writing these cameras' files. Files that hold no video are deleted; files that
    cannot be opened are moved to ``<root>/_damaged/``; folders of unknown cameras are left
    alone.
    """
    root = Path(root if root is not None else settings.RECORDINGS_DIR)
    report = ReconcileReport()
    all_slugs = set(Camera.objects.values_list("slug", flat=True))
    selected = list(cameras) if cameras is not None else list(Camera.objects.order_by("id"))
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            if entry.is_dir() and entry.name not in all_slugs and entry.name != DAMAGED_FOLDER:
                if not entry.name.startswith("."):
                    report.unknown_folders.append(entry.name)
                    log.warning("reconcile: %s matches no camera; its files are left alone", entry)
    written_before = clock() - settled_s if settled_s is not None else None
    reconciler = _Reconciler(root, report, written_before=written_before)
    for camera in selected:
        reconciler.add_missing_rows(camera)
        reconciler.delete_orphan_rows(camera)
    if report.created or report.deleted_files or report.damaged or report.deleted_rows or report.errors:
        log.info(
            "reconcile: %d rows added, %d empty files deleted, %d damaged files moved aside, "
            "%d rows without a file deleted, %d errors",
            report.created,
            report.deleted_files,
            report.damaged,
            report.deleted_rows,
            report.errors,
        )
    return report


def reconcile_camera(camera_id: int, *, settled_s: float | None = None) -> ReconcileReport | None:
    """One camera's recordings, for the worker host that holds it (see reconcile_recordings).
    Never raises: a bad file must not stop the loop that records the cameras."""
    try:
        drop_stale_connections()  # a long-lived worker: the database may have dropped us
        return reconcile_recordings(cameras=list(Camera.objects.filter(pk=camera_id)), settled_s=settled_s)
    except Exception:
        log.exception("reconcile: camera %s failed", camera_id)
        return None
