"""The archive format: a streamed tar of files, each hashed on the way in and out.

Writing: `ArchiveWriter` streams members into `<name>.partial` and renames it into place
only once the manifest (the last member) is written, so a backup that fails half way
never leaves a file that looks complete.

Reading: `extract_verified()` streams members into a staging folder, hashing them, and
only returns once every member matches the manifest and the compressed stream's own CRC
has been checked. Nothing outside the staging folder is touched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ops.backup.errors import BackupError

MANIFEST = "manifest.json"
FORMAT = "ainvr-backup"
FORMAT_VERSION = 1
TOP_FOLDERS = ("database", "recordings", "media", "state")
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
# Recordings are MP4 (already compressed): a light level costs little size and much less CPU.
GZIP_LEVEL = 3


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


class ArchiveWriter:
    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.entries: list[dict] = []
        self.bytes = 0
        self._raw = open(self.partial, "xb")  # noqa: SIM115 - closed in finish() / abort()
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL) if _is_gz(path) else None
        self._tar = tarfile.open(fileobj=self._gzip or self._raw, mode="w|", format=tarfile.PAX_FORMAT)

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
        self.entries.append(entry)
        self.bytes += size

    def finish(self, manifest: dict) -> None:
        """Write the manifest last, close, then rename the archive into place."""
        data = json.dumps({**manifest, "files": self.entries}, indent=1, sort_keys=True).encode()
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


def extract_verified(archive: Path, staging: Path, progress: Callable[[str], None]) -> dict:
    """Extract `archive` into `staging` and check it against its manifest; return the manifest.

    Raises BackupError (one line) for anything short of a complete, intact AINVR backup.
    """
    damaged = f"{archive.name} is damaged or truncated"
    try:
        raw = open(archive, "rb")  # noqa: SIM115
    except OSError as e:
        raise BackupError(f"cannot read {archive}: {e.strerror}") from None
    with raw:
        gz = gzip.GzipFile(fileobj=raw, mode="rb") if raw.read(2) == b"\x1f\x8b" else None
        raw.seek(0)
        stream = gz or raw
        seen: dict[str, tuple[int, str]] = {}
        manifest = None
        try:
            tar = tarfile.open(fileobj=stream, mode="r|")
            for member in tar:
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError(f"{archive.name}: its manifest is implausibly large: not an AINVR backup")
                    manifest = _parse_manifest(tar.extractfile(member).read(), archive)
                    continue
                if manifest is not None:
                    raise BackupError(f"{archive.name}: members after the manifest: not an AINVR backup")
                if not member.isfile():
                    raise BackupError(f"{archive.name}: {member.name!r} is not a regular file: not an AINVR backup")
                rel = _member_path(member.name)
                if member.name in seen:
                    raise BackupError(f"{archive.name}: {member.name!r} appears twice: not an AINVR backup")
                seen[member.name] = _extract_one(tar, member, staging / rel)
                if len(seen) % 500 == 0:
                    progress(f"restore: read {len(seen)} files")
            tar.close()
            if gz is not None:
                while gz.read(CHUNK):  # to the end: GzipFile checks the CRC and length there
                    pass
        except BackupError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise BackupError(f"{damaged} ({_reason(e)}); nothing was restored") from None
        except OSError as e:
            if e.filename is not None:  # writing to the staging folder
                raise BackupError(f"cannot stage the restore in {staging}: {e.strerror}") from None
            raise BackupError(f"{damaged} ({_reason(e)}); nothing was restored") from None
    if manifest is None:
        raise BackupError(f"{damaged}: it has no manifest; nothing was restored")
    _check_against_manifest(manifest, seen, archive)
    return manifest


def _extract_one(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
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
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{archive.name} is damaged: its manifest cannot be read; nothing was restored") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name} is not an AINVR backup (no AINVR manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"{archive.name} was made by a newer AINVR (backup format {version!r}); upgrade first")
    if not isinstance(manifest.get("files"), list) or not isinstance(manifest.get("database"), dict):
        raise BackupError(f"{archive.name} is damaged: its manifest is incomplete; nothing was restored")
    return manifest


def _check_against_manifest(manifest: dict, seen: dict[str, tuple[int, str]], archive: Path) -> None:
    listed = {}
    for entry in manifest["files"]:
        try:
            listed[entry["path"]] = (int(entry["size"]), str(entry["sha256"]))
        except (KeyError, TypeError, ValueError):
            raise BackupError(f"{archive.name} is damaged: its manifest is incomplete; nothing was restored") from None
    missing = sorted(set(listed) - set(seen))
    if missing:
        raise BackupError(f"{archive.name} is damaged: {len(missing)} files are missing (first: {missing[0]})")
    unlisted = sorted(set(seen) - set(listed))
    if unlisted:
        raise BackupError(f"{archive.name} is damaged: {unlisted[0]} is not in its manifest; nothing was restored")
    for name, (size, sha256) in listed.items():
        if seen[name] != (size, sha256):
            raise BackupError(f"{archive.name} is damaged: checksum mismatch on {name}; nothing was restored")


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
