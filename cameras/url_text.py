"""Stream URLs as text: what of them may be shown, and which name a file. Django-free:
capture processes use it."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

# Query keys that carry credentials, as cameras name them (compared without case).
USERNAME_KEYS = ("user", "username", "usr", "login", "loginuse")
PASSWORD_KEYS = ("password", "pwd", "pass", "passwd", "loginpas")


_USERINFO = re.compile(r"//[^/@\s]*@")
_CREDENTIAL_KEYS = "|".join(re.escape(k) for k in (*USERNAME_KEYS, *PASSWORD_KEYS))
_QUERY_CREDENTIAL = re.compile(rf"(?i)([?&;](?:{_CREDENTIAL_KEYS})=)[^&#\s'\"]*")


def redact(text: str) -> str:
    """`text` (an FFmpeg message, a log line) without the credentials of any URL it quotes."""
    return _QUERY_CREDENTIAL.sub(r"\1***", _USERINFO.sub("//", text))


def local_path(url: str) -> str | None:
    """The file path of a file:// URL or a bare path, else None."""
    if url.startswith("/"):
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return str(PurePosixPath(unquote(parts.path)))
    return None
