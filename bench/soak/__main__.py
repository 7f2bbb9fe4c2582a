"""Command line: python -m bench.soak (see bench/README.md, "Soak")."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import bench.soak
from bench.ingest.procfs import REPO, BenchError
from bench.soak.faults import Fault, default_schedule, parse_faults, seconds
from bench.soak.report import cpu_line, footage, memory_table, per_camera_hour, resumed_after
from bench.soak.sampling import Sampler
from bench.soak.system import DUMP, System, postgres_usable

TRACEHOOK = Path(__file__).resolve().parent / "tracehook"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=bench.soak.__doc__.split("\n\n")[0])
    p.add_argument("--cameras", type=int, default=6, help="RTSP cameras, all with detection (default 6)")
    p.add_argument("--minutes", type=float, default=60, help="how long the system runs (default 60)")
    p.add_argument("--faults", help="KIND@TIME[:LENGTH],... (default: scaled from the hour's schedule); 'none'")
    p.add_argument("--warmup", default="5m", help="memory left out of the fit after each start (default 5m)")
    p.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples (default 5)")
    p.add_argument("--max-slope", type=float, default=2.0, help="MB/h a role may climb and count as flat")
    p.add_argument("--max-lost", type=float, default=5.0, help="seconds of footage a camera may lose beyond faults")
    p.add_argument("--attendance", type=int, default=1, help="cameras with attendance on too (default 1)")
    p.add_argument("--database", choices=("auto", "postgres", "sqlite"), default="auto")
    p.add_argument("--resolution", default="1280x720")
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--bitrate", type=int, default=2000, help="kbit/s")
    p.add_argument("--pattern", default="smpte", help="videotestsrc pattern of the streams (ball: always moving)")
    p.add_argument("--segment-seconds", type=int, default=10)
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="a setting for AINVR's processes")
    p.add_argument("--tracemalloc", type=float, default=0, metavar="S", help="dump tracemalloc tops every S s")
    p.add_argument("--tracemalloc-only", default="", metavar="NAMES", help="e.g. runworkers,attendance")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, files, tracemalloc dumps)")
    args = p.parse_args(argv)
    try:
        args.width, args.height = (int(v) for v in args.resolution.lower().split("x"))
        args.warmup_s = seconds(args.warmup)
        args.total_s = args.minutes * 60
        text = args.faults or default_schedule(args.total_s)
        args.schedule = [] if text == "none" else parse_faults(text, total_s=args.total_s)
        args.extra_env = dict(item.split("=", 1) for item in args.env)
    except ValueError as e:
        p.error(str(e))
    if min(args.cameras, args.minutes, args.fps, args.segment_seconds, args.sample_every) <= 0:
        p.error("--cameras, --minutes, --fps, --segment-seconds and --sample-every must be positive")
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Soak:
    """Runs the schedule: samples every process, injects each fault, notes its times."""

    def __init__(self, args, system: System, servers: dict, sampler: Sampler):
        self.args, self.system, self.servers, self.sampler = args, system, servers, sampler
        self.launched = time.time()
        self.start = time.monotonic()
        self.down: list[tuple[float, float]] = []  # wall times the fault camera was down
        self.recoveries: list[tuple[str, str]] = []  # (fault, what recovered and when)
        self.pending_detector: list[float] = []  # wall times of detector kills
        self.pending_face: list[float] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def run(self) -> None:
        faults = list(self.args.schedule)
        next_sample = 0.0
        while (t := self.elapsed()) < self.args.total_s:
            if faults and t >= faults[0].at_s:
                self.inject(faults.pop(0))
                continue
            if t >= next_sample:
                next_sample = t + self.args.sample_every
                self.sampler.sample(t, self.system.roles())
                if self.system.procs["runworkers"].poll() is not None:
                    raise BenchError("runworkers exited during the soak; see runworkers.log")
            wake = min(next_sample, faults[0].at_s if faults else self.args.total_s, self.args.total_s)
            time.sleep(max(0.0, min(1.0, wake - self.elapsed())))

    def inject(self, fault: Fault) -> None:
        print(f"soak: {self.elapsed() / 60:5.1f} min: {fault.label}", flush=True)
        if fault.kind == "camera-down":
            server = self.servers["fault"]
            down = time.time()
            server.stop()
            time.sleep(fault.length_s)  # sampling pauses: one gap in the series
            server.start()
            self.down.append((down, time.time()))
        elif fault.kind in ("detector-kill", "face-kill"):
            roles = self.system.roles()
            pids = roles["detector" if fault.kind == "detector-kill" else "face"]
            if not pids:
                self.recoveries.append((fault.label, "nothing to kill: the process was not running"))
                return
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            (self.pending_detector if fault.kind == "detector-kill" else self.pending_face).append(time.time())
        elif fault.kind == "web-restart":
            killed = time.monotonic()
            self.system.stop("web", timeout=30)
            self.system.start("web")
            took = self.system.wait_healthy(60)
            since = time.monotonic() - killed
            what = f"/healthz 200 {since:.1f} s after the stop" if took is not None else "/healthz never 200 (60 s)"
            self.recoveries.append((fault.label, what))

    def detector_recoveries(self) -> None:
        watch = self.system.logs["runworkers"]
        watch.read()
        for killed in self.pending_detector:
            ready = [t for t in watch.ready_at if t > killed]
            what = f"detector ready again {min(ready) - killed:.1f} s after the kill" if ready else "never back"
            self.recoveries.append((f"detector-kill@{killed - self.launched:.0f}s", what))
        for killed in self.pending_face:
            back = [t for t in watch.stage_started_at.get("attendance", []) if t > killed]
            what = f"face process started again {min(back) - killed:.1f} s after the kill" if back else "never back"
            self.recoveries.append((f"face-kill@{killed - self.launched:.0f}s", what))


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from bench.ingest.phases import start_redis
    from tests.rtsp import RtspServer, available

    ok, why = available()
    if not ok:
        print(f"soak: error: {why}", file=sys.stderr)
        return 1
    database = args.database
    if database == "auto":
        database = "postgres" if postgres_usable() else "sqlite"
    scratch = Path(tempfile.mkdtemp(prefix="ainvr-soak-"))
    stream = dict(width=args.width, height=args.height, fps=args.fps, bitrate=args.bitrate, pattern=args.pattern)
    # The camera that goes down has a server of its own; the others share one encoder.
    servers = {"fault": RtspServer({"/stream": "h264"}, **stream), "rest": RtspServer({"/stream": "h264"}, **stream)}
    redis = system = None
    sampler = Sampler()
    status = 0
    print(
        f"soak: {args.cameras} cameras {args.resolution}@{args.fps} ({args.pattern}), detection on all, attendance "
        f"on {min(args.attendance, args.cameras)}; {args.minutes:g} min; faults: "
        f"{', '.join(f.label for f in args.schedule) or 'none'}; {database}, DEBUG off; {os.cpu_count()} CPUs; "
        f"scratch {scratch}",
        flush=True,
    )
    try:
        servers["fault"].start()
        if args.cameras > 1:
            servers["rest"].start()
        redis = start_redis(scratch)
        if redis is None:
            raise BenchError("no redis-server on PATH (apt-get install redis-server)")
        extra = dict(args.extra_env)
        if args.tracemalloc:
            extra.update(
                AINVR_SOAK_TRACEMALLOC=str(scratch / "tracemalloc"),
                AINVR_SOAK_TRACEMALLOC_EVERY=str(args.tracemalloc),
                AINVR_SOAK_TRACEMALLOC_ONLY=args.tracemalloc_only,
                PYTHONPATH=os.pathsep.join(filter(None, [str(TRACEHOOK), os.environ.get("PYTHONPATH", "")])),
            )
        system = System(scratch, database=database, redis_url=redis[1], port=free_port(), extra_env=extra)
        attendance = set(range(2, 2 + args.attendance)) if args.cameras > 1 else {1}
        cameras = [
            {
                "slug": f"cam-{i:02d}",
                "url": servers["fault" if i == 1 else "rest"].url("/stream"),
                "seconds": args.segment_seconds,
                "attendance": i in attendance,
            }
            for i in range(1, args.cameras + 1)
        ]
        system.set_up(cameras)
        before = json.loads(system.manage("shell", "-v0", "-c", DUMP).strip().splitlines()[-1])
        system.start("web")
        system.start("rq")
        soak = Soak(args, system, servers, sampler)
        system.start("runworkers")
        if system.wait_healthy(60) is None:
            raise BenchError("the web server did not answer /healthz within 60 s; see web.log")
        soak.run()
        stopped = time.time()
        codes = system.stop_all()
        if codes.get("runworkers") != 0:
            print(f"soak: runworkers exited with {codes.get('runworkers')} after SIGTERM", flush=True)
            status = 1
        soak.detector_recoveries()
        status |= report(args, system, soak, sampler, before, stopped, scratch)
    except BenchError as e:
        print(f"soak: error: {e}", file=sys.stderr)
        status = 1
    finally:
        if system is not None:
            system.stop_all()
        for server in servers.values():
            server.stop()
        if redis is not None:
            redis[0].terminate()
            redis[0].wait(10)
        if system is not None and not args.keep:
            system.drop_database()
    if args.keep or status:
        print(f"soak: scratch folder kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return status


def report(args, system: System, soak: Soak, sampler: Sampler, before: dict, stopped: float, scratch: Path) -> int:
    after = json.loads(system.manage("shell", "-v0", "-c", DUMP).strip().splitlines()[-1])
    hours = (stopped - soak.launched) / 3600
    camera_hours = args.cameras * hours
    by_camera: dict[str, list] = {}
    for slug, _path, start, end, _size in after["segments"]:
        by_camera.setdefault(slug, []).append((datetime.fromisoformat(start), datetime.fromisoformat(end)))
    gop_s = 2.0 + 1.0 / args.fps  # the stream's GOP is 2 s
    out = ["", f"## Soak: {args.cameras} cameras, {hours * 60:.1f} min, {datetime.now():%Y-%m-%d %H:%M}", ""]
    out += ["| camera | segments got / expected | start-up s | footage lost beyond faults, s | gaps |"]
    out += ["| --- | --- | --- | --- | --- |"]
    lost_too_much = []
    for i in range(1, args.cameras + 1):
        slug = f"cam-{i:02d}"
        down = soak.down if i == 1 else []
        f = footage(
            slug,
            by_camera.get(slug, []),
            launched=soak.launched,
            stopped=stopped,
            down=down,
            segment_s=args.segment_seconds,
            gop_s=gop_s,
        )
        if f.lost_s > args.max_lost:
            lost_too_much.append(slug)
        gaps = "; ".join(f.gaps)
        out.append(f"| {slug} | {f.segments} / {f.expected} | {f.startup_s:.1f} | {f.lost_s:.1f} | {gaps} |")
    out += ["", "| fault | recovery |", "| --- | --- |"]
    for down, up in soak.down:
        took = resumed_after(by_camera.get("cam-01", []), up)
        what = "never recorded again" if took is None else f"recording again {took:.1f} s after the camera came back"
        out.append(f"| camera-down@{down - soak.launched:.0f}s:{up - down:.0f}s (cam-01) | {what} |")
    out += [f"| {label} | {what} |" for label, what in soak.recoveries]
    table, climbing = memory_table(sampler, warmup_s=args.warmup_s, max_slope=args.max_slope)
    out += ["", *table, "", cpu_line(sampler, stopped - soak.launched), ""]
    rows = {t: n - before["rows"].get(t, 0) for t, n in after["rows"].items()}
    files = {
        "recordings": _bytes(system.data / "recordings"),
        "media (snapshots, faces)": _bytes(system.data / "media"),
    }
    out += per_camera_hour(rows, after["db_bytes"] - before["db_bytes"], files, camera_hours)
    errors = [line for watch in system.logs.values() for line in watch.errors]
    out += ["", f"log lines at ERROR or with a traceback: {len(errors)}"] + [f"  {line}" for line in errors[:10]]
    verdict = []
    if climbing:
        verdict.append(f"memory climbs: {', '.join(climbing)} (more than {args.max_slope:g} MB/h beyond noise)")
    if lost_too_much:
        verdict.append(f"footage lost beyond faults (> {args.max_lost:g} s): {', '.join(lost_too_much)}")
    out += ["", "targets: " + ("met" if not verdict else "MISSED: " + "; ".join(verdict))]
    print("\n".join(out), flush=True)
    (scratch / "report.md").write_text("\n".join(out) + "\n")
    return 1 if verdict else 0


def _bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0


if __name__ == "__main__":
    sys.exit(main())
