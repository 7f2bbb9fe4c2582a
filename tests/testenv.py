"""Test environment, loaded as a pytest plugin (`-p tests.testenv`) before Django starts.

Tests talk to real services: PostgreSQL and Redis when they answer on this machine,
else SQLite and a private Redis started here (core.local_redis, as scripts/up does).
Explicit DATABASE_URL / REDIS_URL in the environment win.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from core import local_redis
from core.pids import pid_alive

# One database name per test run (pytest-django prefixes it with test_), so two runs on
# one machine never drop each other's database.
PG_URL = f"postgres://postgres@127.0.0.1:5432/ainvr_{os.getpid()}"
LOCAL_REDIS = "redis://127.0.0.1:6379"
# A database number of its own, so tests never touch a developer's queues.
# Another DB per concurrent test run on one machine (several checkouts): AINVR_TEST_REDIS_DB.
TEST_REDIS_DB = int(os.environ.get("AINVR_TEST_REDIS_DB", "15"))


def _answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _postgres_usable() -> bool:
    """True when the local PostgreSQL takes us; also drops test databases that runs which
    were killed before they could clean up left behind."""
    if not _answers("127.0.0.1", 5432):
        return False
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3, autocommit=True) as db:
            names = [r[0] for r in db.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test_ainvr_%%'")]
            for name in names:
                pid = name.rsplit("_", 1)[-1]
                if pid.isdigit() and not pid_alive(int(pid)):
                    db.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        return True
    except Exception:
        return False


def start_private_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    """A throwaway Redis on a free port, nothing saved, answering: a child process the caller ends."""
    try:
        server = local_redis.start(0, workdir, persistent=False, detach=False, timeout=15)
    except local_redis.Error as e:  # its log goes with workdir: show the end of it
        raise RuntimeError("\n    ".join([f"{e} (for the tests)", *e.log_tail])) from None
    return server.proc, server.port


def _configure() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ainvr-tests-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    os.environ.setdefault("DATA_DIR", str(workdir / "data"))
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "tests-" + "x7Qp9vL2mN4bR8tY1wE5uI3oA6sD0fG" * 2)
    # Camera credentials' key, shared with the worker processes tests start (their own DATA_DIR).
    os.environ.setdefault("SECRETS_KEY", "dGVzdHMtb25seS1zZWNyZXRzLWtleS0zMi1ieXRlcyE=")
    os.environ.setdefault("TIME_ZONE", "Europe/Paris")  # not UTC, so day boundaries are exercised
    os.environ.setdefault("EMAIL_URL", "consolemail://")
    os.environ.pop("ENV_FILE", None)
    os.environ["ENV_FILE"] = str(workdir / "no.env")  # a developer's .env must not leak into tests
    if "DATABASE_URL" not in os.environ and _postgres_usable():
        os.environ["DATABASE_URL"] = PG_URL
    if not os.environ.get("DATABASE_URL", "sqlite").startswith("postgres"):
        # A file, not SQLite's in-memory test database: worker processes the tests start open it too.
        os.environ.setdefault("DATABASE_TEST_NAME", str(workdir / "test.sqlite3"))
    if "REDIS_URL" not in os.environ:
        if local_redis.ping(LOCAL_REDIS):
            os.environ["REDIS_URL"] = f"{LOCAL_REDIS}/{TEST_REDIS_DB}"
        else:
            proc, port = start_private_redis(workdir / "redis")
            atexit.register(proc.terminate)
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/{TEST_REDIS_DB}"


_configure()


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL", "sqlite (DATA_DIR)")
    return [f"ainvr: database {database.split('@')[-1]}, redis {os.environ['REDIS_URL']}"]


_EXIT_STATUS = 0


def pytest_sessionfinish(session, exitstatus):
    global _EXIT_STATUS
    _EXIT_STATUS = int(exitstatus)


def pytest_unconfigure(config):
    """A thread a failed test left blocked (say, an event loop whose socket task never took its
    cancellation) keeps the interpreter from exiting after the report, and CI then waits out
    its limit. Give such threads a few seconds, then exit with pytest's status."""
    import threading

    deadline = time.monotonic() + 10
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in stuck:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in stuck if t.is_alive()]
    if stuck:
        import sys

        print(f"ainvr: threads still blocked after the tests ({', '.join(stuck)}): exiting anyway", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(_EXIT_STATUS)
