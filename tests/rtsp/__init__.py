"""A real RTSP server for tests and benchmarks: tests/support/rtsp_server.py in a subprocess.

The server is Debian's gst-rtsp-server driven by the system python (where `gi` lives), so it
runs outside the venv; `available()` says whether this machine can run it (scripts/test
installs OS_PACKAGES). Cameras misbehave on demand: `kill()` (the camera dies: readers see
EOF), `freeze()`/`thaw()` (it hangs: readers need a read timeout), `restart()` (it comes back
on the same URL).

    with RtspServer(mounts={"/cam": "h264", "/cam265": "h265"}) as server:
        av.open(server.url("/cam"), options={"rtsp_transport": "tcp"}, timeout=(3, 3))

In tests use the fixtures `rtsp_server` (720p15 H.264 on /stream) and `make_rtsp_server(**options)`;
both FAIL (never skip) when the server cannot run.
"""

from __future__ import annotations

import functools
import os
import selectors
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import pytest

SYSTEM_PYTHON = os.environ.get("AINVR_GST_PYTHON", "/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "support" / "rtsp_server.py"
# Debian packages the server needs; scripts/test installs the same list.
OS_PACKAGES = (
    "python3-gi",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-tools",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
)
ELEMENTS = (
    # live test source, H.264 (plugins-ugly), H.265 (plugins-bad) and RTP payloaders (plugins-good)
    "videotestsrc x264enc x265enc rtph264pay rtph265pay "
    # pattern="clock": frames made by the server's Python
    "appsrc "
    # audio: an AAC encoder is checked separately (avenc_aac from libav, or voaacenc)
    "audiotestsrc audioconvert audioresample rtpmp4gpay "
    # --clip
    "filesrc qtdemux queue h264parse h265parse aacparse"
).split()
EXIT_BIND = 3  # rtsp_server.py: the port could not be bound
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# After a kill the old socket may linger briefly; rebinding the same port is retried this long.
REBIND_TIMEOUT = 5.0
POLL_INTERVAL = 0.05

_PROBE = """
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in sys.argv[1:] if not Gst.ElementFactory.find(name)]
if not (Gst.ElementFactory.find("avenc_aac") or Gst.ElementFactory.find("voaacenc")):
    missing.append("avenc_aac or voaacenc")
if missing:
    sys.exit("missing GStreamer elements: " + ", ".join(missing))
"""


class RtspServerError(RuntimeError):
    """The server could not start; the message carries its stderr."""


@functools.cache
def available() -> tuple[bool, str]:
    """(True, "") when the system python can run the server, else (False, why and how to fix it)."""
    hint = f"install the Debian packages {' '.join(OS_PACKAGES)} (scripts/test does)"
    if not Path(SYSTEM_PYTHON).exists():
        return False, f"{SYSTEM_PYTHON} not found: {hint}"
    try:
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", _PROBE, *ELEMENTS], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{SYSTEM_PYTHON} could not check GStreamer: {exc}"
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"the RTSP test server cannot run under {SYSTEM_PYTHON} ({why}): {hint}"
    return True, ""


class RtspServer:
    """One rtsp_server.py process on 127.0.0.1; the port (any free one by default) stays the same
    across restart().

    mounts maps a path to its codec: "h264", "h265", "h264+aac" or "h265+aac" (default
    {"/stream": "h264"}). gop is in frames (default fps*2), bitrate in kbit/s, pattern a
    videotestsrc pattern or "clock": grey frames carrying the wall clock at which each was made
    (tests.support.frame_clock reads it back: glass-to-glass latency); clip serves an MP4 file
    instead (real time, EOF at its end).
    """

    def __init__(
        self,
        mounts: Mapping[str, str] | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        fps: int = 15,
        gop: int | None = None,
        bitrate: int = 2000,
        pattern: str = "smpte",
        clip: str | os.PathLike[str] | None = None,
        port: int = 0,
    ) -> None:
        self.mounts = dict(mounts or {"/stream": "h264"})
        self.width, self.height, self.fps = width, height, fps
        self.gop = gop or fps * 2
        self.bitrate, self.pattern, self.clip = bitrate, pattern, clip
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._frozen = False
        self._finalizer: weakref.finalize | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> RtspServer:
        """Start and wait until the server listens; raises RtspServerError (with its stderr) otherwise.

        On a fixed port (a restart, or port=N) a port still held by the previous process is
        retried for up to REBIND_TIMEOUT seconds.
        """
        if self.running:
            raise RtspServerError(f"already running (pid {self._proc.pid})")
        deadline = time.monotonic() + max(timeout, REBIND_TIMEOUT if self.port else 0)
        while True:
            error = self._spawn(deadline)
            if error is None:
                return self
            busy = self._proc.returncode == EXIT_BIND
            self._cleanup()
            if not (busy and self.port and time.monotonic() + POLL_INTERVAL < deadline):
                raise RtspServerError(error)
            time.sleep(POLL_INTERVAL)  # bounded by the deadline: the old socket is going away

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (SIGKILL after timeout seconds); a frozen server is thawed first. Idempotent."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            self._continue()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL: the camera dies; its clients' connections close (EOF) at once."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def freeze(self) -> None:
        """SIGSTOP: the camera hangs; connections stay open and nothing arrives."""
        self._require_running().send_signal(signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        """SIGCONT after freeze()."""
        self._require_running()
        self._continue()

    def restart(self, timeout: float = START_TIMEOUT) -> RtspServer:
        """Stop (if still running) and start again on the same port: the same URLs work again."""
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------

    def url(self, mount: str = "/stream") -> str:
        if not self.port:
            raise RtspServerError("not started: no port yet")
        return f"rtsp://127.0.0.1:{self.port}/{mount.lstrip('/')}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running else None

    @property
    def frozen(self) -> bool:
        return self._frozen

    def argv(self) -> list[str]:
        args = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--stop-on-stdin-eof"]
        for path, codec in self.mounts.items():
            args += ["--mount", f"/{path.lstrip('/')}:{codec}"]
        args += ["--width", str(self.width), "--height", str(self.height), "--fps", str(self.fps)]
        args += ["--gop", str(self.gop), "--bitrate", str(self.bitrate), "--pattern", self.pattern]
        if self.clip is not None:
            args += ["--clip", os.fspath(self.clip)]
        return args

    def __repr__(self) -> str:
        state = "frozen" if self._frozen else "running" if self.running else "stopped"
        return f"<RtspServer port={self.port} {state} mounts={self.mounts}>"

    # -- internals -------------------------------------------------------------------------

    def _spawn(self, deadline: float) -> str | None:
        """Start the process and wait for `READY <port>`; None when ready, else why not."""
        self._stderr = tempfile.TemporaryFile(prefix="rtsp-server-", suffix=".stderr")
        # stdin stays open: the server exits when it closes, i.e. when this process dies.
        self._proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._finalizer = weakref.finalize(self, _reap, self._proc)
        output = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in output:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._proc.kill()
                    self._proc.wait()
                    return f"no READY line within the deadline: {self._stderr_text()}"
                if selector.select(remaining):
                    chunk = os.read(self._proc.stdout.fileno(), 4096)
                    if not chunk:  # EOF: the process is exiting
                        self._proc.wait()
                        return f"exited with status {self._proc.returncode}: {self._stderr_text()}"
                    output += chunk
        line = output.split(b"\n", 1)[0].decode(errors="replace")
        word, _, port = line.partition(" ")
        if word != "READY" or not port.isdigit():
            self._proc.kill()
            self._proc.wait()
            return f"unexpected first line {line!r}: {self._stderr_text()}"
        self.port = int(port)
        return None

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text or "(no stderr)"

    def _require_running(self) -> subprocess.Popen[bytes]:
        if not self.running:
            raise RtspServerError("not running")
        return self._proc

    def _continue(self) -> None:
        if self._frozen and self.running:
            self._proc.send_signal(signal.SIGCONT)
        self._frozen = False

    def _cleanup(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # closes the pipes, reaps the process
            self._finalizer = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._frozen = False


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Never leave a server behind: at cleanup, or when an RtspServer is garbage-collected or
    the interpreter exits with one still running."""
    if proc.poll() is None:
        proc.kill()  # a stopped (frozen) process dies on SIGKILL too
        proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


# -- pytest fixtures; a conftest.py makes them available by importing both names ---------------


@pytest.fixture
def make_rtsp_server() -> Iterator:
    """make_rtsp_server(**RtspServer options) -> a started RtspServer; all are stopped at teardown.

    Fails (does not skip) when the server cannot run on this machine: scripts/test installs it.
    """
    servers: list[RtspServer] = []

    def make(**options: object) -> RtspServer:
        ok, reason = available()
        if not ok:
            pytest.fail(reason, pytrace=False)
        server = RtspServer(**options)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def rtsp_server(make_rtsp_server) -> RtspServer:
    """A started 1280x720 15 fps H.264 server (GOP 30) with one mount, /stream: url() is its URL."""
    return make_rtsp_server()
