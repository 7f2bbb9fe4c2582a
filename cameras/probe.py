"""Open a camera's stream once and say what it carries, or what is wrong, in plain words.

Used by the admin's "Test connection" action. PyAV is imported here, on use: it is a
video library, not a model, so the web process may load it.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cameras.url_text import local_path, redact


def open_stream(url: str, *, open_timeout: float = 5.0, read_timeout: float = 5.0):
    """Open a camera stream. RTSP goes over TCP with light probing, which opens a camera far
    sooner than FFmpeg's default probing (bench/README.md, "Reconnect benchmark"); both
    timeouts are enforced by FFmpeg so a frozen camera cannot hang us.

    The read timeout is FFmpeg's own socket timeout, in C. PyAV's read timeout would take
    the GIL and call time.monotonic() in Python at each of FFmpeg's interrupt checks, many
    times a second per camera (bench/README.md, "FFmpeg's socket timeout, and the floor of
    PyAV"). PyAV's timeout still bounds the whole of opening (DESCRIBE, SETUP,
    PLAY and probing), where a slow server could otherwise answer each read just in time."""
    import av

    path = local_path(url)
    if path is not None:
        return av.open(path)
    socket_timeout = str(max(1, int(read_timeout * 1_000_000)))  # microseconds, per socket operation
    options = {"timeout": socket_timeout}
    if urlsplit(url).scheme.lower() in ("rtsp", "rtsps"):
        options |= {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
    return av.open(url, options=options, timeout=(open_timeout, None))


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    codec: str = ""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    error: str = ""

    def describe(self) -> str:
        if not self.ok:
            return self.error
        rate = f" at {self.fps:g} fps" if self.fps else ""
        return f"{self.codec.upper()} {self.width}x{self.height}{rate}"


def _where(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return url


def _resolves(host: str | None) -> bool:
    if not host:
        return True
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    except OSError:
        return True
    return True


def explain(exc: BaseException, url: str, timeout_s: float, *, timed_out: bool = False) -> str:
    """Turn what FFmpeg raised into a sentence an installer understands.

    `timed_out`: the attempt lasted the whole timeout. FFmpeg does not always say so: an
    RTSP server that accepts the connection and never answers ends in InvalidDataError."""
    import av

    where = _where(url)
    # FFmpeg's messages quote the URL it was given, credentials included: cut them out.
    text = redact(str(exc))
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return f"Connection refused by {where}: nothing listens there (check the address and port)."
    if (
        timed_out
        or isinstance(exc, (TimeoutError, av.error.ExitError))
        or getattr(exc, "errno", None) == errno.ETIMEDOUT
    ):
        return f"No answer from {where} within {timeout_s:g} s (camera off, wrong address or a firewall)."
    if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
        return f"Not found: {where} (check the path, or the stream's path on the camera)."
    # What FFmpeg said, without the URL it quotes: a path like /Streaming/Channels/401 is no HTTP status.
    said = getattr(exc, "strerror", None) or text
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in said or "Unauthorized" in said:
        return f"{where} refused the username or password."
    if isinstance(exc, av.error.HTTPNotFoundError) or "404" in said or "Not Found" in said:
        return f"{where} answered but has no stream at that path."
    if isinstance(exc, av.error.InvalidDataError):
        return f"{where} did not send a video stream AINVR can read."
    if getattr(exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{where} cannot be reached from this server (no route to host)."
    if "Name or service not known" in said or "Temporary failure in name resolution" in said:
        return f"The host name {where} does not resolve."
    # FFmpeg reports a host name that does not resolve as a bare I/O error: ask the resolver.
    if getattr(exc, "errno", None) == errno.EIO and not _resolves(urlsplit(url).hostname):
        return f"The host name {where} does not resolve."
    return f"Could not open the stream: {text}"


def probe_stream(url: str, *, timeout_s: float = 5.0) -> ProbeResult:
    """Open `url` (credentials included: server-side only) and read its video stream's codec,
    size and frame rate. Never raises for a bad stream: the result says what is wrong."""
    import av

    path = local_path(url)
    options = {}
    target = url
    if path is not None:
        if not os.path.exists(path):
            return ProbeResult(ok=False, error=f"Not found: {path} (check the path).")
        target = path
    else:
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("rtsp", "rtsps"):
            # TCP and light probing, as open_stream: the person testing a camera waits for it.
            options = {"rtsp_transport": "tcp", "analyzeduration": "1000000", "probesize": "500000"}
    started = time.monotonic()
    try:
        with av.open(target, options=options, timeout=(timeout_s, timeout_s)) as container:
            if not container.streams.video:
                return ProbeResult(ok=False, error=f"{_where(url)} sends no video stream.")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            rate = stream.average_rate or stream.guessed_rate
            return ProbeResult(
                ok=True,
                codec=ctx.name or "",
                width=ctx.width or None,
                height=ctx.height or None,
                fps=round(float(rate), 2) if rate else None,
            )
    except Exception as e:  # FFmpeg reports through many exception types; all become a sentence
        timed_out = time.monotonic() - started >= timeout_s
        return ProbeResult(ok=False, error=explain(e, url, timeout_s, timed_out=timed_out))
