"""Command line: python -m bench.ingest."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import bench.ingest
from bench.ingest.phases import run_ainvr, run_bare_pyav, run_ffmpeg, start_redis
from bench.ingest.procfs import REPO, BenchError
from bench.ingest.profiling import summarize_profile
from bench.ingest.report import details, table


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=bench.ingest.__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=8, help="streams recorded at once (default 8)")
    parser.add_argument("--seconds", type=float, default=60, help="how long each system records (default 60)")
    parser.add_argument("--resolution", default="1280x720", help="WIDTHxHEIGHT of the test stream")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=2000, help="kbit/s (default 2000)")
    parser.add_argument("--gop", type=int, default=0, help="keyframe interval in frames (default 2 s)")
    parser.add_argument("--mounts", type=int, default=1, help="RTSP mounts (encoders) the cameras spread over")
    parser.add_argument("--segment-seconds", type=int, default=10)
    parser.add_argument("--only", choices=("ainvr", "ffmpeg", "pyav"), help="run one phase only")
    parser.add_argument("--no-pyav", action="store_true", help="skip the bare PyAV loop phase")
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
    if args.only in (None, "ffmpeg") and shutil.which("ffmpeg") is None:
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
        if args.only in (None, "ainvr"):
            redis = None if args.no_redis else start_redis(scratch)
            print("bench: phase A, AINVR runworkers ...", flush=True)
            results.append(run_ainvr(args, urls, scratch, server.pid, redis[1] if redis else None))
            if not args.keep:
                shutil.rmtree(scratch / "ainvr", ignore_errors=True)
        if args.only in (None, "ffmpeg"):
            print("bench: phase B, ffmpeg -c copy -f segment ...", flush=True)
            results.append(run_ffmpeg(args, urls, scratch, server.pid))
        if args.only == "pyav" or (args.only is None and not args.no_pyav):
            print("bench: phase C, the bare PyAV loop (bench/ingest/bare_pyav.py) ...", flush=True)
            results.append(run_bare_pyav(args, urls, scratch, server.pid))
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
