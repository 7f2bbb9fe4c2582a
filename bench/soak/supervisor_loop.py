"""Drive the runworkers Supervisor for many rounds with fake capture and stage processes,
and report what its heap kept: a quick way to find a supervisor leak without an hour of
real cameras.

    python -m bench.soak.supervisor_loop --cameras 6 --rounds 20000 [--database postgres]

Each fake capture process reports over a real pipe what a camera does (a status refresh
every 5 s, a closed 10 s segment every 10 s, a drop and a return now and then); the fake
clock moves 0.2 s a round, so 20,000 rounds are about 67 minutes of a supervisor's life.
The real database writes, leases, periodic tasks and metrics run. tracemalloc compares the
heap after a warm-up with the heap at the end and prints the sites that grew, then the
supervisor's RSS before and after (DEBUG off, as in production).
"""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import argparse
import gc
import multiprocessing
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from bench.soak.heap import report_growth, scratch_django

ROUND_S = 0.2


class FakeHandle:
    """A capture or stage process that never dies; its reports go down a real pipe."""

    def __init__(self, pid: int):
        self.pid = pid
        self.reports, self.sender = multiprocessing.Pipe(duplex=False)
        self.exitcode = None

    def is_alive(self) -> bool:
        return True

    def request_stop(self) -> None:
        pass

    def join(self, timeout: float) -> bool:
        return True

    def kill(self) -> None:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak.supervisor_loop")
    parser.add_argument("--cameras", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=2000, help="rounds before the first heap snapshot")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--frames", type=int, default=40, help="frames tracemalloc keeps per allocation")
    parser.add_argument("--redis", default="", metavar="URL", help="a Redis: state changes go to its channel layer")
    parser.add_argument("--flap-every", type=int, default=3000, help="rounds between a camera's drops (default 10 min)")
    args = parser.parse_args(argv)
    with scratch_django(args.database, args.redis) as scratch:
        return run(args, scratch)


def run(args, scratch: Path) -> int:
    from cameras.models import Camera
    from cameras.services import save_camera
    from core.db import keep_connection
    from detection.analysis.services import StalledJobsTask
    from detection.retention import EventRetentionTask
    from pipeline.reports import SegmentReport, StatusReport
    from pipeline.stage_pool import StagePool, StageSpec
    from pipeline.supervisor import Supervisor
    from recordings.retention import RetentionTask
    from recordings.segments import ClosedSegment

    keep_connection()
    for i in range(1, args.cameras + 1):
        save_camera(Camera(name=f"cam-{i:02d}", slug=f"cam-{i:02d}", stream_url=f"rtsp://127.0.0.1:9/c{i}"))
    clock = [0.0]
    handles: dict[int, FakeHandle] = {}
    pids = iter(range(10_000_000, 20_000_000))

    def spawn(spec):
        handles[spec.id] = FakeHandle(next(pids))
        return handles[spec.id]

    stages = StagePool(
        [StageSpec("detector-cpu", "x:y", "detection"), StageSpec("attendance", "x:y", "attendance")],
        spawn=lambda spec, queue: FakeHandle(next(pids)),
        make_queue=lambda size: None,
        clock=lambda: clock[0],
    )
    tick = lambda: clock[0]  # noqa: E731
    tasks = [RetentionTask(clock=tick), EventRetentionTask(clock=tick), StalledJobsTask(clock=tick)]
    supervisor = Supervisor(spawn=spawn, stages=stages, clock=tick, tasks=tasks)
    wall = datetime.now(UTC)
    me = psutil.Process()
    rss = {}
    for n in range(args.rounds):
        clock[0] += ROUND_S
        at = wall + timedelta(seconds=clock[0])
        for camera_id, handle in handles.items():
            if n % 25 == 0:  # a status refresh every 5 s; the camera drops for 10 s every --flap-every rounds
                down = n % args.flap_every < 50
                state = "offline" if down else "online"
                fields = {"last_error": "stream ended"} if down else {"fps": 15.0, "width": 1280, "height": 720}
                handle.sender.send(StatusReport(camera_id, state, fields))
            if n % 50 == 0:  # a 10 s segment
                slug = f"cam-{camera_id:02d}"
                path = f"{slug}/{at:%Y-%m-%d}/{at:%H-%M-%S-%f}.mp4"
                closed = ClosedSegment(
                    scratch / "recordings" / path, path, at - timedelta(seconds=10), at, 2_500_000, "h264", 1280, 720
                )
                handle.sender.send(SegmentReport(camera_id, closed))
        supervisor.step()
        if n == args.warmup:
            tracemalloc.start(args.frames)
            first = tracemalloc.take_snapshot()
            rss["start"] = me.memory_info().rss / 2**20
    counts = gc.get_count()
    last = tracemalloc.take_snapshot()
    rss["end"] = me.memory_info().rss / 2**20
    print(f"{args.rounds} rounds ({args.rounds * ROUND_S / 60:.0f} min of supervisor time), {args.cameras} cameras")
    minutes = (args.rounds - args.warmup) * ROUND_S / 60
    report_growth(first, last, minutes=minutes, rss_mb=(rss["start"], rss["end"]), top=args.top)
    # Garbage in reference cycles waits for a full collection, which a big heap makes rare.
    print(f"gc.collect() now finds {gc.collect()} unreachable objects; gc.get_count() was {counts}")
    report_growth(first, tracemalloc.take_snapshot(), minutes=minutes, rss_mb=(rss["start"], rss["end"]), top=3)
    supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
