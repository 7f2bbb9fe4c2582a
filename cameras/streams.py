"""Stream URLs and the credentials kept apart from them.

Credentials live in their own fields and are put into a URL only when a stream is
opened on the server (workers, the connection test); they are never sent to a browser.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from django.core.exceptions import ValidationError

STREAM_SCHEMES = {"rtsp", "rtsps", "http", "https", "file"}


def validate_stream_url(value: str) -> None:
    """A camera source: rtsp(s)://, http(s)://, file:// or an absolute file path."""
    if not value:
        return
    if value.startswith("/"):
        return
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise ValidationError("The URL's host is malformed.", code="host") from None
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise ValidationError(
            "Use an rtsp://, rtsps://, http(s)://, file:// URL or an absolute file path.", code="scheme"
        )
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.path == "/":
            raise ValidationError("A file:// URL needs an absolute path to a file on this server.", code="path")
        return
    if not parts.hostname:
        raise ValidationError("The URL has no host name.", code="host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValidationError("The URL's port is not a number between 0 and 65535.", code="port") from None


def split_credentials(url: str) -> tuple[str, str, str]:
    """Take user:password@ out of a URL: returns (url_without_them, username, password)."""
    if not url or url.startswith("/"):
        return url, "", ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # malformed: left as it is for validate_stream_url to refuse
        return url, "", ""
    if parts.username is None and parts.password is None:
        return url, "", ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, unquote(parts.username or ""), unquote(parts.password or "")


def with_credentials(url: str, username: str, password: str) -> str:
    """The URL a stream is opened with. Only for server-side use."""
    if not url or url.startswith("/") or not (username or password):
        return url
    parts = urlsplit(url)
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def local_path(url: str) -> str | None:
    """The file path of a file:// URL or a bare path, else None."""
    if url.startswith("/"):
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return str(PurePosixPath(unquote(parts.path)))
    return None
