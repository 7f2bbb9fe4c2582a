"""The system under soak: a scratch AINVR (DATA_DIR, database, Redis) and its processes
(daphne, runworkers, rqworker) run as in production, with DEBUG off."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil

from bench.ingest.procfs import AINVR_ENV, REPO, BenchError

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CREATE_CAMERAS = """
import json, os
from cameras.models import Camera
from cameras.services import save_camera
for c in json.loads(os.environ["BENCH_CAMERAS"]):
    save_camera(Camera(name=c["slug"], slug=c["slug"], stream_url=c["url"], segment_seconds=c["seconds"],
                       ai_enabled=True, attendance_enabled=c["attendance"]))
"""
# Segments, rows per table and the database's size, as one JSON line.
DUMP = """
import json
from django.apps import apps
from django.db import connection
from recordings.models import Segment
segments = [[s.camera.slug, s.path, s.start.isoformat(), s.end.isoformat(), s.size_bytes]
            for s in Segment.objects.select_related("camera").order_by("camera__slug", "start")]
tables = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
rows = {m._meta.db_table: m._default_manager.count() for m in tables}
if connection.vendor == "postgresql":
    with connection.cursor() as c:
        c.execute("SELECT pg_database_size(current_database())")
        size = c.fetchone()[0]
else:
    from pathlib import Path
    size = sum(p.stat().st_size for p in Path(connection.settings_dict["NAME"]).parent.glob("ainvr.sqlite3*"))
print(json.dumps({"segments": segments, "rows": rows, "db_bytes": size, "vendor": connection.vendor}))
"""
STAGE_STARTED = re.compile(r"^(\S+ \S+) \w+ \S+: stage (\S+): started \(pid (\d+)\)")
DETECTOR_READY = re.compile(r"^(\S+ \S+) \w+ \S+: inference process ready")
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"


def postgres_usable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True):
            return True
    except Exception:
        return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, connect_timeout=5, autocommit=True) as db:
        db.execute(sql)


@dataclass
class LogWatch:
    """Reads a log file as it grows: the stage processes' pids, the detector's ready lines
    (wall times), and how many lines were errors."""

    path: Path
    offset: int = 0
    stages: dict[str, int] = field(default_factory=dict)  # stage name -> pid
    ready_at: list[float] = field(default_factory=list)  # epoch seconds
    stage_started_at: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def read(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # whole lines only
        self.offset += end
        for line in data[:end].decode(errors="replace").splitlines():
            if match := STAGE_STARTED.match(line):
                self.stages[match[2]] = int(match[3])
                self.stage_started_at.setdefault(match[2], []).append(_log_time(match[1]))
            elif match := DETECTOR_READY.match(line):
                self.ready_at.append(_log_time(match[1]))
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback"):
                self.errors.append(line[:300])


def _log_time(text: str) -> float:
    return datetime.strptime(text, LOG_TIME).timestamp()  # the logs' asctime is local time


class System:
    def __init__(self, scratch: Path, *, database: str, redis_url: str, port: int, extra_env: dict[str, str]):
        self.scratch = scratch
        self.data = scratch / "data"
        self.port = port
        self.db_name = ""
        env = {k: v for k, v in os.environ.items() if k not in AINVR_ENV and k != "DEBUG"}
        env.update(
            DEBUG="false",
            DATA_DIR=str(self.data),
            ENV_FILE=str(scratch / "none.env"),
            SECRET_KEY=secrets.token_urlsafe(48),
            REDIS_URL=redis_url,
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        if database == "postgres":
            self.db_name = f"ainvr_soak_{os.getpid()}"
            _pg_admin(f'CREATE DATABASE "{self.db_name}"')
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.db_name}"
        env.update(extra_env)
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = {name: LogWatch(scratch / f"{name}.log") for name in ("web", "runworkers", "rq")}

    # --- set-up -------------------------------------------------------------------
    def manage(self, *argv: str, extra: dict | None = None, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *argv],
            cwd=REPO,
            env=self.env | (extra or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise BenchError(f"manage.py {argv[0]} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def set_up(self, cameras: list[dict]) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "-v0")
        self.manage("shell", "-v0", "-c", CREATE_CAMERAS, extra={"BENCH_CAMERAS": json.dumps(cameras)})

    # --- processes ----------------------------------------------------------------
    def start(self, name: str) -> subprocess.Popen:
        manage = [sys.executable, str(REPO / "manage.py")]
        argv = {
            "web": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "ainvr.asgi:application"],
            "runworkers": manage + ["runworkers"],
            "rq": manage + ["rqworker", "default", "analysis", "notifications"],
        }[name]
        with (self.scratch / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs[name] = proc
        return proc

    def stop(self, name: str, timeout: float = 60) -> int | None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return proc.returncode if proc else None
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None

    def stop_all(self) -> dict[str, int | None]:
        # runworkers first: its capture processes finish and report their last segments.
        codes = {name: self.stop(name) for name in ("runworkers", "rq", "web")}
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything a stopped process left behind
            except ProcessLookupError:
                pass
        return codes

    def healthz(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=timeout) as response:
                return response.status == 200
        except OSError:
            return False

    def roles(self) -> dict[str, list[int]]:
        """{role: pids} of every process of the system now."""
        for watch in self.logs.values():
            watch.read()
        stages = self.logs["runworkers"].stages
        detector = {pid for name, pid in stages.items() if name.startswith("detector")}
        face = {pid for name, pid in stages.items() if name == "attendance"}
        roles = {role: [] for role in ("supervisor", "capture", "detector", "face", "web", "rq", "helpers")}
        for name, role in (("runworkers", "supervisor"), ("web", "web"), ("rq", "rq")):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            roles[role].append(proc.pid)
            try:
                children = psutil.Process(proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for child in children:
                if role != "supervisor":
                    roles[role].append(child.pid)  # rq's work horses, say
                elif child.pid in detector:
                    roles["detector"].append(child.pid)
                elif child.pid in face:
                    roles["face"].append(child.pid)
                elif _parent(child) == proc.pid:
                    roles["helpers"].append(child.pid)  # the forkserver, resource_tracker
                else:
                    roles["capture"].append(child.pid)  # forked by the forkserver
        return roles

    def wait_healthy(self, timeout: float) -> float | None:
        """Seconds until /healthz answers 200, or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.procs["web"].poll() is not None:
                return None
            if self.healthz(timeout=1.0):
                return time.monotonic() - started
            time.sleep(0.1)
        return None

    def drop_database(self) -> None:
        if self.db_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def _parent(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.NoSuchProcess:
        return None
