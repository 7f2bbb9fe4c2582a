"""Recording gap after a camera outage, against the real RTSP test server.

    python -m bench.reconnect --outage 60 --runs 3

Each run records the test stream with a CaptureWorker (the production reconnect policy),
kills the server, keeps it away `--outage` seconds, starts it again on the same port, and
prints how long after its return the first new segment starts, and how many full stream
opens the worker tried while the camera was away. No Django or database: the worker's
segments and statuses go to lists. Figures of this session are in bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cameras.probe import open_stream
from pipeline.capture import CaptureWorker, StatusReporter
from pipeline.specs import CameraSpec
from tests.rtsp import RtspServer


def one_run(outage_s: float, timeout_s: float) -> tuple[float | None, int]:
    """(seconds from the camera's return to the first new segment's start or None, full opens
    during the outage)."""
    with RtspServer() as server, tempfile.TemporaryDirectory() as root:
        url = server.url()
        opens: list[float] = []
        segments = []

        def opener(u, **timeouts):
            opens.append(time.monotonic())
            return open_stream(u, **timeouts)

        spec = CameraSpec(
            id=1, slug="bench", name="Bench", main_url=url, detect_url=url, record=True, segment_seconds=2
        )
        worker = CaptureWorker(
            spec,
            recordings_root=Path(root),
            status=StatusReporter(1, write=lambda *args: None),
            on_segment=lambda camera_id, closed: segments.append(closed),
            on_disk_full=lambda *args: None,
            open_source=opener,
        )
        deadline = time.monotonic() + timeout_s
        while not segments and time.monotonic() < deadline:
            worker.step()
        server.kill()
        killed = time.monotonic()
        while time.monotonic() - killed < outage_s:
            worker.step()
        during = sum(1 for t in opens if t > killed)
        server.restart()
        back = datetime.now(UTC)
        seen = len(segments)
        first = None
        deadline = time.monotonic() + timeout_s + outage_s
        while first is None and time.monotonic() < deadline:
            worker.step()
            # A segment closed after the return that starts after it (not the one cut short by the kill).
            first = next((s.start for s in segments[seen:] if s.start > back - timedelta(seconds=1)), None)
        worker.stop()
        return (None if first is None else (first - back).total_seconds()), during


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the camera is away (default 60)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a segment (default 30)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    gaps = []
    for run in range(1, args.runs + 1):
        gap, opens = one_run(args.outage, args.timeout)
        gaps.append(gap)
        shown = "none" if gap is None else f"{gap:.2f} s"
        per_minute = opens * 60 / args.outage
        print(
            f"run {run}: recording back {shown} after the camera; {opens} full opens while away ({per_minute:.1f}/min)"
        )
    known = [g for g in gaps if g is not None]
    if known:
        print(f"gap: median {statistics.median(known):.2f} s, max {max(known):.2f} s over {len(known)} run(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
