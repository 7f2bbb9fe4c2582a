"""When a capture process tries its camera again after the stream failed.

A full open (RTSP DESCRIBE, SETUP, PLAY and probing) is what a camera feels; a TCP connect
to its port is nearly free for both sides. So while a camera is away the worker knocks
(`tcp_probe`, every `probe_every` seconds) and opens the stream as soon as the port
answers: recording comes back within about a second of the camera, however long the
outage was. While the port does not answer, a full open is tried only every
`blind_every` seconds (in case the probe is wrong about a reachable camera). When the port
answers but opening fails (a camera whose RTSP service is still starting, a wrong path),
full opens back off exponentially up to `Backoff.cap`, so such a camera is not hammered.

Pure logic with the clock and the probe passed in (no Django): tests drive it with a fake
clock (tests/pipeline/test_reconnect_policy.py).
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "http": 80, "https": 443}


@dataclass
class Backoff:
    """Capped exponential backoff with jitter, so a site's cameras do not reconnect in step."""

    initial: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 0.25
    rng: Callable[[], float] = field(default=random.random)
    _next: float = 0.0

    def next_delay(self) -> float:
        self._next = self.initial if self._next == 0 else min(self.cap, self._next * self.factor)
        return self._next * (1 + self.jitter * (2 * self.rng() - 1))

    def reset(self) -> None:
        self._next = 0.0


def probe_address(url: str) -> tuple[str, int] | None:
    """(host, port) to knock on for a stream URL, or None when there is nothing to knock on
    (a file, a URL without a host or with an unknown scheme and no port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    port = port or DEFAULT_PORTS.get(parts.scheme.lower())
    return (parts.hostname, port) if port else None


def tcp_probe(address: tuple[str, int], timeout: float = 1.0) -> bool:
    """Whether something accepts a TCP connection at `address` within `timeout` seconds."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


class ReconnectPolicy:
    """Decides, after a stream failed, when the next full open happens.

    Call `failed(now)` when an open or the stream fails, `connected()` when packets flow,
    and `ready(now)` while disconnected: True means "open the stream now"; False means
    "not yet, ask again after `wait(now)` seconds". `ready()` may run the probe (it blocks
    up to the probe's timeout)."""

    def __init__(
        self,
        address: tuple[str, int] | None,
        *,
        backoff: Backoff | None = None,
        probe: Callable[[tuple[str, int]], bool] = tcp_probe,
        probe_every: float = 1.0,
        blind_every: float = 30.0,
    ):
        self.address = address
        self.backoff = backoff or Backoff()
        self.probe = probe
        self.probe_every = probe_every
        self.blind_every = blind_every
        self.probes = 0
        self._open_at = 0.0  # no full open before this (the backoff after a failed one)
        self._last_open: float | None = None  # when the last failed open was tried
        self._check_at = 0.0  # the next probe
        self._down = False  # the last probe found nothing listening

    def connected(self) -> None:
        self.backoff.reset()
        self._down = False
        self._last_open = None
        self._open_at = self._check_at = 0.0

    def failed(self, now: float) -> float:
        """An open (or the stream) failed at `now`; returns the backoff delay chosen."""
        delay = self.backoff.next_delay()
        self._last_open = now
        self._open_at = now + delay
        self._check_at = now + min(delay, self.probe_every)
        return delay

    def ready(self, now: float) -> bool:
        if now < self._check_at:
            return False
        if self.address is None or self._last_open is None:
            # Nothing to knock on, or the first try after a drop: the backoff alone decides.
            if now >= self._open_at:
                return True
            self._check_at = self._open_at
            return False
        self.probes += 1
        if self.probe(self.address):
            self._down = False
            if now >= self._open_at:
                return True
            self._check_at = min(self._open_at, now + self.probe_every)
            return False
        # Nothing listens: the failures so far are explained, so the next open after the
        # port answers is not delayed by them; meanwhile only a blind open now and then.
        self._down = True
        self.backoff.reset()
        self._open_at = now
        if now - self._last_open >= self.blind_every:
            return True
        self._check_at = now + self.probe_every
        return False

    @property
    def down(self) -> bool:
        """The last probe found nothing listening at the camera's address."""
        return self._down

    def wait(self, now: float) -> float:
        return max(0.0, self._check_at - now)
