"""Serving recorded files to browsers: HTTP Range (206) so players can seek, only from
the folder the file belongs to, or handed to nginx with X-Accel-Redirect.

Django's FileResponse and django.views.static.serve ignore Range; a browser cannot seek
in an MP4 without it.
"""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The Range asks for bytes the file does not have (answer 416)."""


def safe_path(root: Path, relative: str) -> Path:
    """The file at `relative` inside `root`, or Http404: absolute paths, `..`, NUL
    bytes and symlinks leading out of the folder are all refused."""
    if not relative or "\x00" in relative or "\\" in relative:
        raise Http404("No such file.")
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or any(p in ("..", ".") for p in parts):
        raise Http404("No such file.")
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise Http404("No such file.")
    return path


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, for a single `bytes=` range; None to send the whole
    file (no header, several ranges, or a unit we do not know: RFC 9110 lets a server
    ignore Range). Raises Unsatisfiable when the range lies outside the file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or (last and end < start):
        raise Unsatisfiable
    return start, min(end, size - 1)


def _file_chunks(path: Path, start: int, length: int):
    with path.open("rb") as f:
        f.seek(start)
        while length > 0:
            data = f.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def serve_file(
    request, root: Path, relative: str, *, accel_prefix: str | None = None, download_name: str | None = None
):
    """Answer a GET/HEAD for `relative` under `root` with Range support."""
    response: HttpResponseBase
    path = safe_path(root, relative)
    if accel_prefix:
        # nginx serves it (with Range) from an `internal` location mapped to `root`.
        response = HttpResponse(content_type=content_type(path))
        response["X-Accel-Redirect"] = (
            accel_prefix.rstrip("/") + "/" + quote(path.relative_to(Path(root).resolve()).as_posix())
        )
        _disposition(response, download_name)
        return response
    size = path.stat().st_size
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if wanted is None:
        response = FileResponse(path.open("rb"), content_type=content_type(path))
    else:
        start, end = wanted
        length = end - start + 1
        body = [] if request.method == "HEAD" else _file_chunks(path, start, length)
        response = StreamingHttpResponse(body, status=206, content_type=content_type(path))
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    _disposition(response, download_name)
    return response


def _disposition(response, download_name: str | None) -> None:
    if download_name:
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"


def open_then_unlink(path: Path):
    """Open a temporary file for reading and remove its name at once: the data lives
    until the response closes the file, and nothing is left behind if the client leaves."""
    handle = path.open("rb")
    os.unlink(path)
    return handle
