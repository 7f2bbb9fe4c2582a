"""`kill -9` of `runworkers` and a restart with the same WORKER_HOST_ID: the new process
takes its dead predecessor's leases over at once (not after WORKER_LEASE_SECONDS), so the
recording resumes within seconds, never recorded twice; the file the dead process was
writing gets its row once it has settled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cameras.models import WorkerHost
from recordings.models import Segment
from tests.installs import REPO
from tests.pipeline.test_runworkers_processes import add_camera, child_database_url, files_of, stop
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RESUME_WITHIN_S = 5.0
LEASE_S = 30  # the default: a stranger would wait this long


def start_runworkers(data_dir: Path, log: Path, host_id: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=child_database_url(),
        DATA_DIR=str(data_dir),
        WORKER_HOST_ID=host_id,
        WORKER_LEASE_SECONDS=str(LEASE_S),
    )
    env.pop("DATABASE_TEST_NAME", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "runworkers"],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_a_restart_after_kill_9_resumes_recording_within_5_seconds(make_rtsp_server, tmp_path):
    server = make_rtsp_server(width=640, height=360, fps=15, gop=15)
    camera = add_camera("cam-r", server.url())
    first = start_runworkers(tmp_path, tmp_path / "first.log", "nvr-1")
    second = None
    try:
        wait_for(lambda: Segment.objects.filter(camera=camera).count() >= 2, 60, "the first process records")

        os.kill(first.pid, signal.SIGKILL)  # the supervisor only, as an OOM kill would
        first.wait(10)
        killed_at = datetime.now(UTC)
        second = start_runworkers(tmp_path, tmp_path / "second.log", "nvr-1")
        wait_for(
            lambda: Segment.objects.filter(camera=camera, start__gt=killed_at).exists(),
            60,
            "the restarted process records",
        )
        up_at = WorkerHost.objects.get(host="nvr-1").started_at

        # The file the killed process was writing gets its row once it has settled.
        wait_for(
            lambda: (
                files_of(tmp_path, "cam-r")
                <= set(Segment.objects.filter(camera=camera).values_list("path", flat=True)) | newest(tmp_path)
            ),
            60,
            "every file of cam-r but the one being written has its row",
        )
    finally:
        if second is not None:
            stop(second)
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)

    spans = list(Segment.objects.filter(camera=camera).order_by("start").values_list("start", "end"))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, f"recorded twice at {start}"
    # The footage lost: the one hole in the recording, from the end of what the killed
    # process's capture wrote (its half-written file included) to the new process's first frame.
    holes = [(start - end, start) for (_, end), (start, _) in zip(spans, spans[1:], strict=False)]
    hole, resumed = max(holes)
    resumed_after = (resumed - killed_at).total_seconds()
    startup = (up_at - killed_at).total_seconds()
    print(
        f"restart: recording resumed {resumed_after:.2f} s after kill -9 (start-up {startup:.2f} s), "
        f"footage lost {hole.total_seconds():.2f} s"
    )
    # The interpreter's start-up is not ours to shorten (about 1.5 s on a quiet machine, 4+ s
    # on a loaded test machine): once up, the new process must not wait for any lease.
    assert (resumed - up_at).total_seconds() <= RESUME_WITHIN_S, (tmp_path / "second.log").read_text()
    assert resumed_after < LEASE_S / 2  # the lease of its dead predecessor was not waited out


def newest(data_dir: Path) -> set[str]:
    """The file being written now (no row until it is closed)."""
    root = data_dir / "recordings"
    files = sorted((root / "cam-r").rglob("*.mp4"), key=lambda p: p.stat().st_mtime)
    return {files[-1].relative_to(root).as_posix()} if files else set()
