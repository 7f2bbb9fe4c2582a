"""Stream URLs and the credentials kept apart from them.

Credentials live in their own fields and are put into a URL only when a stream is
opened on the server (workers, the connection test); they are never sent to a browser.
Cameras take them in two forms: `rtsp://user:pass@host/...` (userinfo) or query keys
(`?user=..&password=..`, Dahua, Hikvision, Axis, Reolink); both are split out, and the
query key names are kept so the worker puts them back the way the camera expects.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from django.core.exceptions import ValidationError

from cameras.url_text import PASSWORD_KEYS, USERNAME_KEYS

STREAM_SCHEMES = {"rtsp", "rtsps", "http", "https", "file"}

# C0 controls and DEL, raw or percent-encoded: a CR/LF in an RTSP URL ends up in the
# request FFmpeg sends (header injection); NUL cuts the string short in C.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]|%(?:[01][0-9a-fA-F]|7[fF])")
_WHITESPACE = re.compile(r"\s")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_PORT = re.compile(r"^[0-9]{1,5}$")


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(f"Stream URL: {message}", code=code)


def validate_stream_url(value: str) -> None:
    """A camera source: rtsp(s)://, http(s)://, file:// or an absolute file path.

    Refused: control characters (raw or percent-encoded) anywhere, whitespace in a URL, a
    host that is not a host name, an IPv4 address or a bracketed IPv6 address, a port
    outside 1-65535. Messages never quote the URL (it may hold credentials)."""
    if not value:
        return
    # Checked on the raw text: urlsplit silently drops CR, LF and tabs.
    if _CONTROL.search(value):
        raise _refuse("control characters (such as CR, LF or NUL, typed or %-encoded) are not allowed.", "control")
    if value.startswith("/"):
        return  # a file on this server; its name may hold spaces
    if _WHITESPACE.search(value):
        raise _refuse("spaces are not allowed (write them as %20 in a path).", "space")
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise _refuse("the host is malformed.", "host") from None
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise _refuse("use an rtsp://, rtsps://, http(s)://, file:// URL or an absolute file path.", "scheme")
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.path == "/":
            raise _refuse("a file:// URL needs an absolute path to a file on this server.", "path")
        return
    host, port = _host_and_port(parts.netloc)
    if not host:
        raise _refuse("the URL has no host name.", "host")
    if not _valid_host(host):
        raise _refuse("the host is not a host name, an IPv4 address or an [IPv6] address.", "host")
    if port is not None and not (_PORT.match(port) and 1 <= int(port) <= 65535):
        raise _refuse("the port is not a number between 1 and 65535.", "port")


def _host_and_port(netloc: str) -> tuple[str, str | None]:
    """The host as typed (IPv6 with its brackets) and the port text (None when absent)."""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        if rest and not rest.startswith(":"):
            return "", None
        return host, rest[1:] if rest else None
    host, colon, port = hostport.partition(":")
    return host, port if colon else None


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        address, _, zone = host[1:-1].partition("%25")  # a link-local zone: [fe80::1%25eth0]
        if zone and not re.fullmatch(r"[A-Za-z0-9_.-]+", zone):
            return False
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def validate_query_key(value: str) -> None:
    """A query key a camera reads a credential from: letters, digits, _ . - only."""
    if value and not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", value):
        raise ValidationError("Use letters, digits, _ . or - only (e.g. user, password, pwd).", code="query_key")


class SplitUrl(NamedTuple):
    """A URL without its credentials, the credentials, and the query keys they came in
    ("" for userinfo)."""

    url: str
    username: str
    password: str
    username_key: str = ""
    password_key: str = ""


def _credential_key(key: str) -> str | None:
    name = unquote(key).lower()
    if name in USERNAME_KEYS:
        return "username"
    if name in PASSWORD_KEYS:
        return "password"
    return None


def extract_credentials(url: str) -> SplitUrl:
    """Take `user:password@` and credential query keys out of a URL.

    A URL that does not parse, or holds control characters, is returned as it is for
    validate_stream_url to refuse (urlsplit would quietly drop a CR/LF)."""
    if not url or url.startswith("/") or _CONTROL.search(url):
        return SplitUrl(url, "", "")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return SplitUrl(url, "", "")
    if parts.scheme.lower() == "file":
        return SplitUrl(url, "", "")
    found = {"username": "", "password": ""}
    keys = {"username": "", "password": ""}
    kept = []
    for piece in parts.query.split("&") if parts.query else []:
        key, _, value = piece.partition("=")
        which = _credential_key(key)
        if which is None or keys[which]:
            kept.append(piece)  # not a credential, or a second one: left in the URL as it was
            continue
        keys[which] = unquote(key)
        found[which] = unquote(value)  # "+" kept: cameras read the query raw
    query = "&".join(kept)
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{port}" if port else host
        # userinfo wins over query keys; a query key fills in what userinfo lacks
        if parts.username:
            found["username"], keys["username"] = unquote(parts.username), ""
        if parts.password:
            found["password"], keys["password"] = unquote(parts.password), ""
    if netloc == parts.netloc and query == parts.query:
        return SplitUrl(url, "", "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return SplitUrl(clean, found["username"], found["password"], keys["username"], keys["password"])


def split_credentials(url: str) -> tuple[str, str, str]:
    """(url_without_credentials, username, password): see extract_credentials."""
    split = extract_credentials(url)
    return split.url, split.username, split.password


def with_credentials(url: str, username: str, password: str, *, username_key: str = "", password_key: str = "") -> str:
    """The URL a stream is opened with. Only for server-side use. A credential with a
    query key goes into the query under that key; the others go into userinfo."""
    if not url or url.startswith("/") or not (username or password):
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return url
    query = [parts.query] if parts.query else []
    userinfo_user = userinfo_password = ""
    if username:
        if username_key:
            query.append(f"{quote(username_key, safe='')}={quote(username, safe='')}")
        else:
            userinfo_user = username
    if password:
        if password_key:
            query.append(f"{quote(password_key, safe='')}={quote(password, safe='')}")
        else:
            userinfo_password = password
    netloc = parts.netloc
    if userinfo_user or userinfo_password:
        userinfo = quote(userinfo_user, safe="")
        if userinfo_password:
            userinfo += ":" + quote(userinfo_password, safe="")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(query), parts.fragment))
