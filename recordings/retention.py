"""Retention: which recordings are deleted, and when.

Three rules, applied in this order by `apply_retention()`:

1. age: a camera's segments that ended more than `Camera.retention_days` ago;
2. size_cap: the oldest segments across all cameras while the rows' total size is over
   `StorageSettings.max_total_gb`;
3. free_disk: the oldest segments across all cameras while the filesystem holding
   RECORDINGS_DIR has less than `StorageSettings.min_free_gb` free. This rule is what keeps
   a full disk from stopping the recording of new footage; `free_space_now()` applies it
   alone, for a capture process whose write just failed with ENOSPC.

Only files that have a Segment row are ever deleted, so the file a capture process is
writing (its row comes when it is closed) is never touched. Each segment's file goes
first, then its row: a crash in between leaves a row without a file, which reconcile
removes. Rows are read in batches, oldest first, with a keyset cursor: a million-row
backlog never loads at once, and a file that cannot be deleted is passed over, never
retried in a loop.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from cameras.models import Camera
from core import metrics
from core.periodic import PeriodicTask
from recordings.models import Segment, StorageSettings

log = logging.getLogger("ainvr.retention")

GB = 1024**3  # the settings' "GB" are GiB, the unit `df -h` shows as G
BATCH_SIZE = 200
REASONS = ("age", "size_cap", "free_disk")
DATE_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")

DiskUsage = Callable[[Path], Any]  # shutil.disk_usage: anything with a `free` attribute in bytes


@dataclass
class RetentionReport:
    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    bytes_freed: int = 0  # sizes of the files actually removed
    missing_files: int = 0  # rows deleted whose file was already gone
    errors: int = 0  # files that could not be deleted (their rows are kept)

    @property
    def deleted_total(self) -> int:
        return sum(self.deleted.values())


@dataclass(frozen=True)
class _Row:
    id: int
    start: datetime
    path: str
    size_bytes: int
    slug: str


def _oldest_after(queryset: QuerySet, after: _Row | None) -> list[_Row]:
    """The next batch of `queryset`, oldest `start` first, after the row `after`."""
    queryset = queryset.order_by("start", "id")
    if after is not None:
        queryset = queryset.filter(Q(start__gt=after.start) | Q(start=after.start, id__gt=after.id))
    fields = ("id", "start", "path", "size_bytes", "camera__slug")
    return [_Row(*values) for values in queryset.values_list(*fields)[:BATCH_SIZE]]


def _oldest_first(queryset: QuerySet):
    """Every row of `queryset`, batch by batch; each batch is read after the previous one was handled."""
    after = None
    while rows := _oldest_after(queryset, after):
        yield rows
        after = rows[-1]


def _prefix_covering(rows: list[_Row], excess: int) -> list[_Row]:
    """The oldest rows whose sizes add up to at least `excess` bytes (all of them if they fall short)."""
    total = 0
    for n, row in enumerate(rows, start=1):
        total += row.size_bytes
        if total >= excess:
            return rows[:n]
    return rows


class _Deleter:
    """Deletes segments, file first then row, and keeps the report."""

    def __init__(self, *, root: Path, now: datetime, report: RetentionReport):
        self.root = root
        self.report = report
        # The newest date folders are left even when empty: a writer may be about to create
        # its next file there (segment files are named in UTC).
        self.keep_folders_from = f"{(now.astimezone(UTC) - timedelta(days=1)):%Y-%m-%d}"

    def delete(self, rows: list[_Row], reason: str) -> tuple[int, int]:
        """Delete `rows`; returns (bytes of the rows deleted, bytes of the files removed)."""
        gone: list[tuple[_Row, int | None]] = []  # (row, file size; None when it was missing)
        folders: set[Path] = set()
        for row in rows:
            file = self._file(row)
            if file is None:
                continue
            try:
                size = file.stat().st_size
                file.unlink()
            except FileNotFoundError:
                size = None
            except OSError as e:
                self.report.errors += 1
                log.warning("retention: cannot delete %s (%s): %s; row kept", row.path, reason, e)
                continue
            gone.append((row, size))
            folders.add(file.parent)
        if not gone:
            return 0, 0
        Segment.objects.filter(pk__in=[row.id for row, _ in gone]).delete()

        row_bytes = file_bytes = 0
        for row, size in gone:
            row_bytes += row.size_bytes
            metrics.retention_deleted(row.slug, 1, size or 0)
            if size is None:
                self.report.missing_files += 1
                log.info("retention: %s: deleted %s (%s, %d bytes, file already missing)", *_line(row, reason))
            else:
                file_bytes += size
                log.info("retention: %s: deleted %s (%s, %d bytes)", *_line(row, reason))
        self.report.deleted[reason] += len(gone)
        self.report.bytes_freed += file_bytes
        for folder in folders:
            self._remove_if_empty(folder)
        return row_bytes, file_bytes

    def _file(self, row: _Row) -> Path | None:
        parts = PurePosixPath(row.path).parts
        if not parts or PurePosixPath(row.path).is_absolute() or ".." in parts:
            self.report.errors += 1
            log.error("retention: segment %d has a path outside RECORDINGS_DIR: %r; left alone", row.id, row.path)
            return None
        return self.root.joinpath(*parts)

    def _remove_if_empty(self, folder: Path) -> None:
        """Remove `<root>/<camera>/<date>` once its last file is gone."""
        if folder.parent.parent != self.root or not DATE_FOLDER.fullmatch(folder.name):
            return
        if folder.name >= self.keep_folders_from:
            return
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty (or not ours to remove): fine


def _line(row: _Row, reason: str) -> tuple[str, str, str, int]:
    return row.slug, row.path, reason, row.size_bytes


def _storage() -> StorageSettings:
    # Read only: an install that never saved its settings gets the defaults, no row is written.
    return StorageSettings.objects.filter(pk=1).first() or StorageSettings()


def _delete_by_age(deleter: _Deleter, now: datetime) -> None:
    for camera in Camera.objects.only("id", "slug", "retention_days").order_by("id"):
        cutoff = now - timedelta(days=camera.retention_days)
        # start < cutoff follows from end < cutoff; it lets the (camera, start) index do the work.
        expired = Segment.objects.filter(camera=camera, start__lt=cutoff, end__lt=cutoff)
        for rows in _oldest_first(expired):
            deleter.delete(rows, "age")


def _delete_over_size_cap(deleter: _Deleter, cap_bytes: int) -> None:
    total = Segment.objects.aggregate(total=Sum("size_bytes"))["total"] or 0
    after = None
    while total > cap_bytes:
        rows = _oldest_after(Segment.objects.all(), after)
        if not rows:
            return
        chosen = _prefix_covering(rows, total - cap_bytes)
        after = chosen[-1]
        row_bytes, _ = deleter.delete(chosen, "size_cap")
        total -= row_bytes


def _delete_for_free_disk(deleter: _Deleter, min_free_bytes: int, disk_usage: DiskUsage) -> None:
    free = disk_usage(deleter.root).free
    after = None
    while free < min_free_bytes:
        rows = _oldest_after(Segment.objects.all(), after)
        if not rows:
            log.warning(
                "retention: %s has %d bytes free, below the minimum of %d, and no recording is left to delete",
                deleter.root,
                free,
                min_free_bytes,
            )
            return
        chosen = _prefix_covering(rows, min_free_bytes - free)
        after = chosen[-1]
        _, file_bytes = deleter.delete(chosen, "free_disk")
        # Measured again, but never below what the deletions account for: some filesystems
        # report freed blocks late, and believing them would delete more footage than needed.
        free = max(disk_usage(deleter.root).free, free + file_bytes)


def _summarise(report: RetentionReport) -> None:
    if report.deleted_total:
        log.info(
            "retention: deleted %d segments (age %d, size cap %d, free disk %d), %d bytes freed, "
            "%d files already missing, %d errors",
            report.deleted_total,
            report.deleted["age"],
            report.deleted["size_cap"],
            report.deleted["free_disk"],
            report.bytes_freed,
            report.missing_files,
            report.errors,
        )


def apply_retention(
    *, now: datetime, disk_usage: DiskUsage = shutil.disk_usage, root: Path | None = None
) -> RetentionReport:
    """Apply the three rules (age, size cap, free disk) once; see the module's docstring.

    Never raises for a file that cannot be deleted: it is logged, counted in `errors` and
    its row kept. `disk_usage(root)` measures the filesystem holding the recordings.
    """
    root = Path(root if root is not None else settings.RECORDINGS_DIR)
    report = RetentionReport()
    deleter = _Deleter(root=root, now=now, report=report)
    storage = _storage()
    _delete_by_age(deleter, now)
    if storage.max_total_gb is not None:
        _delete_over_size_cap(deleter, round(storage.max_total_gb * GB))
    if storage.min_free_gb is not None:
        _delete_for_free_disk(deleter, round(storage.min_free_gb * GB), disk_usage)
    _summarise(report)
    return report


def delete_camera_footage(camera_id: int, *, now: datetime | None = None, root: Path | None = None) -> RetentionReport:
    """Delete every recording of one camera that has a row (an admin's deliberate action, in
    Settings), oldest first, the way retention deletes: file, then row. The segment being
    written has no row yet and is kept. Its events stay (their snapshots are not footage)."""
    now = now or timezone.now()
    root = Path(root if root is not None else settings.RECORDINGS_DIR)
    report = RetentionReport(deleted={"by_admin": 0})  # not one of the retention rules
    deleter = _Deleter(root=root, now=now, report=report)
    for rows in _oldest_first(Segment.objects.filter(camera_id=camera_id)):
        deleter.delete(rows, "by_admin")
    log.info(
        "retention: camera %d: an admin deleted its footage: %d segments, %d bytes freed, %d errors",
        camera_id,
        report.deleted["by_admin"],
        report.bytes_freed,
        report.errors,
    )
    return report


def free_space_now(
    *,
    min_free_bytes: int | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
    root: Path | None = None,
    now: datetime | None = None,
) -> RetentionReport:
    """The free-disk rule alone: delete the oldest segments until `min_free_bytes` are free.

    For a capture process whose write failed with ENOSPC. `min_free_bytes` defaults to
    StorageSettings.min_free_gb (nothing is done when that is empty).
    """
    root = Path(root if root is not None else settings.RECORDINGS_DIR)
    if min_free_bytes is None:
        min_free_gb = _storage().min_free_gb
        if min_free_gb is None:
            return RetentionReport()
        min_free_bytes = round(min_free_gb * GB)
    report = RetentionReport()
    deleter = _Deleter(root=root, now=now or timezone.now(), report=report)
    _delete_for_free_disk(deleter, min_free_bytes, disk_usage)
    _summarise(report)
    return report


class RetentionTask(PeriodicTask):
    """Runs `apply_retention()` every `interval_s` seconds; the worker supervisor calls
    `step()` in its loop. The first step runs it at once."""

    logger = log
    failure_message = "retention: run failed"

    def __init__(
        self,
        *,
        interval_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
        disk_usage: DiskUsage = shutil.disk_usage,
    ):
        super().__init__(interval_s=interval_s, clock=clock)
        self.now = now
        self.disk_usage = disk_usage
        self.last_report: RetentionReport | None = None

    def run(self) -> None:
        self.last_report = apply_retention(now=self.now(), disk_usage=self.disk_usage)
