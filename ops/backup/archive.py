"""The archive format: a streamed tar of files, each hashed on the way in and out.

Members: the data (`database/`, `state/`, `media/`, `recordings/`), then `files.jsonl`
(path, size, sha256 and mtime of every data member, one a line), then `manifest.json`
(versions, row counts, totals, and the size and sha256 of `files.jsonl`). The file list
is kept on disk on both sides, never in memory: millions of recordings are fine.

Writing: `ArchiveWriter` streams members into `<name>.partial` and renames it into place
only once the manifest (the last member) is written, so a backup that fails half way
never leaves a file that looks complete.

Reading: `extract_verified()` streams members into a staging folder, hashing them, and
only returns once every member matches the file list, the list matches the manifest, and
the compressed stream's own CRC has been checked. Nothing outside the staging folder is
touched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, cast

from ops.backup.errors import BackupError

MANIFEST = "manifest.json"
FILE_LIST = "files.jsonl"
FORMAT = "ainvr-backup"
FORMAT_VERSION = 1
TOP_FOLDERS = ("database", "recordings", "media", "state")
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
GZIP_LEVEL = 6
# MP4 does not compress: deflate gains nothing on recordings and only slows the backup down
# (bench/README.md, "Smaller figures from former code comments"), so they go in a gzip member of
# their own, stored.
GZIP_LEVEL_STORED = 0


class _HashingReader:
    """A file-like view of exactly `size` bytes of `source`, hashing what is read."""

    def __init__(self, source, size: int):
        self.source = source
        self.remaining = size
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        n = self.remaining if n is None or n < 0 else min(n, self.remaining)
        data = self.source.read(n)
        self.sha256.update(data)
        self.remaining -= len(data)
        return data


class _MultiMemberGzip:
    """A gzip stream whose level can change: each change starts a new gzip member (readers,
    Python's GzipFile included, read concatenated members as one stream, checking each CRC)."""

    def __init__(self, raw, level: int):
        self.raw = raw
        self.level = level
        self._gzip = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level, mtime=0)

    def write(self, data) -> int:
        return self._gzip.write(data)

    def set_level(self, level: int) -> None:
        if level != self.level:
            self._gzip.close()  # ends this member; the raw file stays open
            self.level = level
            self._gzip = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=level, mtime=0)

    def close(self) -> None:
        self._gzip.close()


class ArchiveWriter:
    """Call with a scratch folder `workdir` for the file list."""

    def __init__(self, path: Path, workdir: Path):
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.files = 0
        self.bytes = 0
        self._list_path = workdir / FILE_LIST
        self._list = open(self._list_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finish() / abort()
        self._raw = open(self.partial, "xb")  # noqa: SIM115 - closed in finish() / abort()
        self._gzip = _MultiMemberGzip(self._raw, GZIP_LEVEL) if _is_gz(path) else None
        # A stream ("w|") only writes to its file object: _MultiMemberGzip has what it uses.
        sink = cast(IO[bytes], self._gzip or self._raw)
        self._tar = tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT)

    def compress(self, enabled: bool) -> None:
        """Compress what follows (True) or store it (False); no effect on a plain .tar."""
        if self._gzip is not None:
            self._gzip.set_level(GZIP_LEVEL if enabled else GZIP_LEVEL_STORED)

    def add_file(self, source: Path, arcname: str) -> bool:
        """Add one file as it is now (a file still growing is cut at its size when opened).
        False when it vanished first (retention may delete recordings while we run)."""
        try:
            f = open(source, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return False
        with f:
            st = os.fstat(f.fileno())
            info = tarfile.TarInfo(arcname)
            info.size = st.st_size
            info.mtime = int(st.st_mtime)
            info.mode = st.st_mode & 0o777
            reader = _HashingReader(f, st.st_size)
            self._tar.addfile(info, reader)
        self._record(arcname, st.st_size, reader.sha256.hexdigest(), st.st_mtime)
        return True

    def add_bytes(self, arcname: str, data: bytes) -> None:
        info = tarfile.TarInfo(arcname)
        info.size = len(data)
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._record(arcname, len(data), hashlib.sha256(data).hexdigest(), None)

    def _record(self, arcname: str, size: int, sha256: str, mtime: float | None) -> None:
        entry = {"path": arcname, "size": size, "sha256": sha256}
        if mtime is not None:
            entry["mtime"] = mtime
        self._list.write(json.dumps(entry) + "\n")
        self.files += 1
        self.bytes += size

    def finish(self, manifest: dict) -> None:
        """Write the file list and the manifest last, close, then rename the archive into place."""
        self._list.close()
        self.compress(True)
        with open(self._list_path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            info = tarfile.TarInfo(FILE_LIST)
            info.size, info.mode = size, 0o600
            reader = _HashingReader(f, size)
            self._tar.addfile(info, reader)
        files = {"list": FILE_LIST, "count": self.files, "bytes": self.bytes, "list_size": size}
        files["list_sha256"] = reader.sha256.hexdigest()
        data = json.dumps({**manifest, "files": files}, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        try:
            self._close()
        finally:
            self.partial.unlink(missing_ok=True)

    def _close(self) -> None:
        self._list.close()
        try:
            self._tar.close()
            if self._gzip is not None:
                self._gzip.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
        finally:
            self._raw.close()


def _is_gz(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


def _member_path(name: str) -> PurePosixPath:
    """The member's path, refused when it could land outside the staging folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] not in TOP_FOLDERS:
        raise BackupError(f"the archive holds an unexpected path {name!r}: not an AINVR backup")
    return path


class VerifiedArchive:
    """An archive extracted into `staging` and checked: its manifest, and which paths it holds."""

    def __init__(self, manifest: dict, index: sqlite3.Connection):
        self.manifest = manifest
        self._index = index

    @property
    def files(self) -> int:
        return self.manifest["files"]["count"]

    @property
    def bytes(self) -> int:
        return self.manifest["files"]["bytes"]

    def holds(self, arcname: str) -> bool:
        return self._index.execute("SELECT 1 FROM seen WHERE path = ?", (arcname,)).fetchone() is not None

    def close(self) -> None:
        self._index.close()


def extract_verified(archive: Path, staging: Path, progress: Callable[[str], None]) -> VerifiedArchive:
    """Extract `archive` into `staging` and check every member against the file list.

    Raises BackupError (one line) for anything short of a complete, intact AINVR backup.
    """
    damaged = f"{archive.name} is damaged or truncated"
    try:
        raw = open(archive, "rb")  # noqa: SIM115
    except OSError as e:
        raise BackupError(f"cannot read {archive}: {e.strerror}") from None
    # What was extracted, on disk: a backup may hold millions of recordings.
    index = sqlite3.connect(staging / ".index.sqlite3")
    index.execute("CREATE TABLE seen (path TEXT PRIMARY KEY, size INTEGER, sha256 TEXT, listed INTEGER DEFAULT 0)")
    try:
        with raw:
            manifest, file_list = _extract_all(raw, staging, index, archive, damaged, progress)
        if manifest is None:
            raise BackupError(f"{damaged}: it has no manifest; nothing was restored")
        if file_list is None:
            raise BackupError(f"{damaged}: it has no file list; nothing was restored")
        _check_file_list(manifest, file_list, staging / ".files.jsonl", index, archive)
    except BaseException:
        index.close()
        raise
    return VerifiedArchive(manifest, index)


def _extract_all(raw, staging: Path, index, archive: Path, damaged: str, progress):
    gz = gzip.GzipFile(fileobj=raw, mode="rb") if raw.read(2) == b"\x1f\x8b" else None
    raw.seek(0)
    manifest = file_list = None
    count = 0
    try:
        tar = tarfile.open(fileobj=gz or raw, mode="r|")
        for member in tar:
            if manifest is not None:
                raise BackupError(f"{archive.name}: members after the manifest: not an AINVR backup")
            if not member.isfile():
                raise BackupError(f"{archive.name}: {member.name!r} is not a regular file: not an AINVR backup")
            if member.name == MANIFEST:
                if member.size > MAX_MANIFEST_BYTES:
                    raise BackupError(f"{archive.name}: its manifest is implausibly large: not an AINVR backup")
                manifest = _parse_manifest(_member_file(tar, member).read(), archive)
                continue
            if member.name == FILE_LIST:
                file_list = _extract_one(tar, member, staging / ".files.jsonl")
                continue
            if file_list is not None:
                raise BackupError(f"{archive.name}: members after the file list: not an AINVR backup")
            rel = _member_path(member.name)
            size, sha256 = _extract_one(tar, member, staging / rel)
            try:
                index.execute("INSERT INTO seen (path, size, sha256) VALUES (?, ?, ?)", (member.name, size, sha256))
            except sqlite3.IntegrityError:
                raise BackupError(f"{archive.name}: {member.name!r} appears twice: not an AINVR backup") from None
            count += 1
            if count % 1000 == 0:
                progress(f"restore: read {count} files")
        tar.close()
        if gz is not None:
            while gz.read(CHUNK):  # to the end: GzipFile checks the CRC and length there
                pass
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise BackupError(f"{damaged} ({_reason(e)}); nothing was restored") from None
    except FileExistsError:
        raise BackupError(f"{archive.name}: a path appears twice: not an AINVR backup") from None
    except OSError as e:
        if e.filename is not None:  # writing to the staging folder
            raise BackupError(f"cannot stage the restore in {staging}: {e.strerror}") from None
        raise BackupError(f"{damaged} ({_reason(e)}); nothing was restored") from None
    return manifest, file_list


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    """A regular member's data (the callers checked member.isfile(): never None then)."""
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name!r} is not a regular file: not an AINVR backup")
    return source


def _extract_one(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = _member_file(tar, member)
    sha256 = hashlib.sha256()
    size = 0
    with open(dest, "xb") as out:
        while chunk := source.read(CHUNK):
            sha256.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != member.size:
        raise EOFError("unexpected end of data")
    os.utime(dest, (member.mtime, member.mtime))
    return size, sha256.hexdigest()


def _parse_manifest(data: bytes, archive: Path) -> dict:
    incomplete = f"{archive.name} is damaged: its manifest is incomplete; nothing was restored"
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{archive.name} is damaged: its manifest cannot be read; nothing was restored") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name} is not an AINVR backup (no AINVR manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"{archive.name} was made by a newer AINVR (backup format {version!r}); upgrade first")
    files, database = manifest.get("files"), manifest.get("database")
    if not isinstance(files, dict) or not isinstance(database, dict):
        raise BackupError(incomplete)
    if not all(isinstance(files.get(k), int) for k in ("count", "bytes", "list_size")):
        raise BackupError(incomplete)
    if not isinstance(files.get("list_sha256"), str) or not isinstance(database.get("file"), str):
        raise BackupError(incomplete)
    return manifest


def _check_file_list(manifest: dict, file_list, list_path: Path, index, archive: Path) -> None:
    """Every member is listed with its size and sha256, every listed file is there, once."""
    name = archive.name
    if file_list != (manifest["files"]["list_size"], manifest["files"]["list_sha256"]):
        raise BackupError(f"{name} is damaged: checksum mismatch on its file list; nothing was restored")
    listed = 0
    with open(list_path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
                path, size, sha256 = entry["path"], int(entry["size"]), str(entry["sha256"])
            except (ValueError, KeyError, TypeError):
                raise BackupError(f"{name} is damaged: its file list cannot be read; nothing was restored") from None
            row = index.execute("SELECT size, sha256, listed FROM seen WHERE path = ?", (path,)).fetchone()
            if row is None:
                raise BackupError(f"{name} is damaged: {path} is missing; nothing was restored")
            if row[2]:
                raise BackupError(f"{name} is damaged: {path} is listed twice; nothing was restored")
            if (row[0], row[1]) != (size, sha256):
                raise BackupError(f"{name} is damaged: checksum mismatch on {path}; nothing was restored")
            index.execute("UPDATE seen SET listed = 1 WHERE path = ?", (path,))
            listed += 1
    unlisted = index.execute("SELECT path FROM seen WHERE listed = 0 LIMIT 1").fetchone()
    if unlisted is not None:
        raise BackupError(f"{name} is damaged: {unlisted[0]} is not in its file list; nothing was restored")
    if listed != manifest["files"]["count"]:
        raise BackupError(f"{name} is damaged: its file list does not match its manifest; nothing was restored")
    index.commit()


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
