"""create_backup() and restore_backup(): what `manage.py backup` and `restore` run."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder

from accounts.models import User
from cameras.models import Camera
from cameras.secrets import key_source
from cameras.selectors import cameras_with_unreadable_credentials
from ops.backup import archive
from ops.backup.database import DatabaseDump, check_restorable, dump_database, engine, load_database
from ops.backup.errors import BackupError
from recordings.models import Segment

log = logging.getLogger("ainvr.backup")
Progress = Callable[[str], None]
PROGRESS_EVERY_S = 2.0
# State that belongs to running processes, not to the installation.
STATE_SKIPPED = {"redis", "prometheus"}
# The key of the camera credentials stays out unless asked for: a leaked backup must not
# give the cameras away (cameras.secrets).
SECRETS_KEY_NAME = "secrets.key"


@dataclass
class BackupReport:
    path: Path
    files: int
    bytes: int
    database_format: str
    seconds: float


@dataclass
class RestoreReport:
    files: int
    bytes: int
    database_format: str
    left_in_place: int  # files already there that the backup did not have (--force)
    seconds: float
    unreadable_credentials: int = 0  # cameras whose credentials this installation's key does not open


def trees(*, recordings: bool, secrets_key: bool = False) -> list[tuple[str, Path, set[str]]]:
    """(folder in the archive, folder on disk, names skipped at its top) of what is backed up."""
    state_skipped = STATE_SKIPPED if secrets_key else STATE_SKIPPED | {SECRETS_KEY_NAME}
    result = [
        ("state", Path(settings.STATE_DIR), state_skipped),
        ("media", Path(settings.MEDIA_ROOT), set()),
    ]
    if recordings:
        result.append(("recordings", Path(settings.RECORDINGS_DIR), set()))
    return result


def _walk(root: Path, skipped: set[str], others: set[Path]) -> Iterator[tuple[Path, str]]:
    """Regular files under root (sorted, symlinks and other trees left out) with their
    path relative to root."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not (here == root and d in skipped) and (here / d) not in others and not d.startswith(".ainvr-")
        )
        for name in sorted(filenames):
            path = here / name
            if here == root and name in skipped or name.endswith(".partial") or path.is_symlink():
                continue
            yield path, path.relative_to(root).as_posix()


def create_backup(
    output: Path,
    *,
    recordings: bool = True,
    since: datetime | None = None,
    database_format: str = "auto",
    include_secrets_key: bool = False,
    progress: Progress = print,
) -> BackupReport:
    """Write a backup archive to `output`. `since` limits recordings and media to files
    modified from then on (the database and state are always whole). The key of the camera
    credentials is left out unless `include_secrets_key`."""
    started = time.monotonic()
    output = output.absolute()
    if output.exists():
        raise BackupError(f"{output} already exists; choose another file name")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a folder")
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".ainvr-backup-") as tmp:
        dump = dump_database(Path(tmp), database_format=database_format, progress=progress)
        progress(f"backup: database dumped ({dump.format}, {_size(dump.path.stat().st_size)})")
        writer = archive.ArchiveWriter(output, Path(tmp))
        try:
            writer.add_file(dump.path, dump.arcname)
            if include_secrets_key:
                _add_secrets_key(writer)
            totals = _add_trees(
                writer,
                recordings=recordings,
                since=since,
                progress=progress,
                exclude={output},
                secrets_key=include_secrets_key,
            )
            if not include_secrets_key and _has_camera_credentials():
                progress(
                    "backup: the key of the camera credentials is not in the archive: keep a copy of it apart "
                    "(SECRETS_KEY, or STATE_DIR/secrets.key), or back up with --include-secrets-key"
                )
            manifest = _manifest(dump, totals, recordings=recordings, since=since)
            manifest["options"]["secrets_key"] = include_secrets_key
            writer.finish(manifest)
        except BaseException:
            writer.abort()
            raise
    seconds = time.monotonic() - started
    log.info(
        "backup written path=%s files=%d bytes=%d seconds=%.1f",
        output, writer.files, writer.bytes, seconds,
        extra={"event": "backup.written", "path": str(output), "files": writer.files, "bytes": writer.bytes},
    )  # fmt: skip
    return BackupReport(output, writer.files, writer.bytes, dump.format, seconds)


def _has_camera_credentials() -> bool:

    return Camera.objects.exclude(encrypted_username="", encrypted_password="").exists()


def _add_secrets_key(writer: archive.ArchiveWriter) -> None:
    """A key given by SECRETS_KEY goes in as the key file it can be restored as; a key
    file is taken with the rest of the state."""
    if settings.SECRETS_KEYS:
        writer.add_bytes(f"state/{SECRETS_KEY_NAME}", ("\n".join(settings.SECRETS_KEYS) + "\n").encode())


def _add_trees(
    writer: archive.ArchiveWriter,
    *,
    recordings: bool,
    since: datetime | None,
    progress: Progress,
    exclude: set[Path],
    secrets_key: bool,
) -> dict[str, dict[str, int]]:
    chosen = trees(recordings=recordings, secrets_key=secrets_key)
    roots = {root.resolve() for _, root, _ in chosen}
    since_ts = since.timestamp() if since else None
    totals: dict[str, dict[str, int]] = {}
    last_report = time.monotonic()
    for top, root, skipped in chosen:
        files = size = vanished = 0
        writer.compress(top != "recordings")
        if root.is_dir():
            others = {r for r in roots if r != root.resolve()}
            for path, rel in _walk(root, skipped, others):
                if path.absolute() in exclude or (top == "state" and rel == SECRETS_KEY_NAME and settings.SECRETS_KEYS):
                    continue  # (SECRETS_KEY wins over a key file: _add_secrets_key put it in)
                if since_ts is not None and top != "state":
                    try:
                        if path.stat().st_mtime < since_ts:
                            continue
                    except FileNotFoundError:
                        continue
                before = writer.bytes
                if not writer.add_file(path, f"{top}/{rel}"):
                    vanished += 1
                    continue
                files += 1
                size += writer.bytes - before
                if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                    last_report = time.monotonic()
                    progress(f"backup: {top} {files} files, {_size(size)} so far")
        totals[top] = {"files": files, "bytes": size, "vanished": vanished}
        progress(f"backup: {top} {files} files, {_size(size)}")
    return totals


def _manifest(
    dump: DatabaseDump, totals: dict[str, dict[str, int]], *, recordings: bool, since: datetime | None
) -> dict[str, Any]:
    return {
        "format": archive.FORMAT,
        "format_version": archive.FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "host": platform.node(),
        "versions": {
            "django": django.get_version(),
            "python": sys.version.split()[0],
            "migrations": _latest_migrations(),
        },
        "database": {"engine": engine(), "format": dump.format, "file": dump.arcname, "counts": dump.counts},
        "options": {"recordings": recordings, "since": since.isoformat() if since else None},
        "totals": totals,
    }


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connections[DEFAULT_DB_ALIAS]).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def populated_reason() -> str | None:
    """Why this installation is not empty (restoring would mix or lose data), or None."""

    tables = set(connections[DEFAULT_DB_ALIAS].introspection.table_names())
    for model, what in ((User, "users"), (Camera, "cameras"), (Segment, "recordings")):
        if model._meta.db_table in tables and model._base_manager.exists():
            return f"the database has {what}"
    for top, root, skipped in trees(recordings=True):
        if top != "state" and root.is_dir() and next(_walk(root, skipped, set()), None) is not None:
            return f"{root} holds files"
    return None


def restore_backup(path: Path, *, force: bool = False, progress: Progress = print) -> RestoreReport:
    """Restore an archive into this installation.

    Every member is extracted to a staging folder and checked against the manifest before
    anything else is touched; then the database is replaced and the files moved into place.
    Stop the web server, runworkers and rqworker first.
    """
    started = time.monotonic()
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    if not force and (reason := populated_reason()):
        raise BackupError(f"this installation is not empty ({reason}); restore with --force to replace it")
    staging = Path(tempfile.mkdtemp(dir=settings.DATA_DIR, prefix=".ainvr-restore-"))
    verified = None
    try:
        verified = archive.extract_verified(path, staging, progress)
        progress(f"restore: {verified.files} files verified")
        database = verified.manifest["database"]
        check_restorable(database.get("format"))
        load_database(database["format"], staging / database["file"], staging, progress)
        progress(f"restore: database loaded ({database['format']} into {engine()})")
        moved = left = 0
        for top, root, _ in trees(recordings=True):
            if (staging / top).is_dir():
                moved += _move_tree(staging / top, root)
            if force and top != "state" and root.is_dir():
                left += sum(1 for _, rel in _walk(root, set(), set()) if not verified.holds(f"{top}/{rel}"))
        progress(f"restore: {moved} files moved into place")
        unreadable = _check_credentials(progress)
    finally:
        if verified is not None:
            verified.close()
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.monotonic() - started
    log.info(
        "backup restored path=%s files=%d bytes=%d seconds=%.1f", path, verified.files, verified.bytes, seconds,
        extra={"event": "backup.restored", "path": str(path), "files": verified.files, "bytes": verified.bytes},
    )  # fmt: skip
    return RestoreReport(verified.files, verified.bytes, database["format"], left, seconds, unreadable)


def _check_credentials(progress: Progress) -> int:
    """Say, in one line, when the restored camera credentials do not open with this
    installation's key (the archive leaves it out unless asked): the restore stands, the
    cameras go to error until the key is provided."""

    unreadable = cameras_with_unreadable_credentials()
    if unreadable:
        progress(
            f"restore: warning: the credentials of {len(unreadable)} camera(s) cannot be decrypted: the key "
            f"({key_source()}) is not the one of the backed-up installation; set SECRETS_KEY to that key "
            "(or copy its STATE_DIR/secrets.key here) and restart, or type the camera passwords again"
        )
    return len(unreadable)


def _move_tree(source: Path, target: Path) -> int:
    moved = 0
    for dirpath, _, filenames in os.walk(source):
        for name in filenames:
            src = Path(dirpath) / name
            dest = target / src.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dest)  # a rename on one file system, else a copy
            moved += 1
    return moved


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
