"""`manage.py runworkers` as real processes on the test database, against a real RTSP
server: it follows the admin, survives a killed capture process, stops cleanly, and two
hosts never record one camera twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from cameras.models import Camera, CameraLease
from cameras.services import save_camera
from recordings.models import Segment
from tests.installs import REPO
from tests.media import video_packets

pytestmark = pytest.mark.django_db(transaction=True)


def child_database_url() -> str:
    """The test database, as a URL another process can open."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def start_runworkers(data_dir: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=child_database_url(), DATA_DIR=str(data_dir), WORKER_LEASE_SECONDS="4")
    env.pop("DATABASE_TEST_NAME", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "runworkers"],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            found[int(entry.name)] = (ppid, (entry / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return found


def capture_children(pid: int) -> list[int]:
    """The capture processes of a runworkers process: the children of its forkserver
    (multiprocessing's helper processes are not counted)."""
    processes = _processes()
    servers = {p for p, (ppid, cmdline) in processes.items() if ppid == pid and b"forkserver" in cmdline}
    return sorted(p for p, (ppid, _) in processes.items() if ppid in servers)


def worker_tree(pid: int) -> list[int]:
    """Every process a runworkers process started, directly or through its forkserver."""
    processes = _processes()
    tree, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (ppid, _) in processes.items() if ppid == parent]
        tree += children
        frontier += children
    return sorted(tree)


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(30)


@pytest.fixture
def server(make_rtsp_server):
    return make_rtsp_server(width=640, height=360, fps=15, gop=15)


def add_camera(slug, url):
    # Recording only: with AI on, the detector stage would be one more child of the forkserver.
    return save_camera(Camera(name=slug.title(), slug=slug, stream_url=url, segment_seconds=1, ai_enabled=False))


def files_of(data_dir: Path, slug: str) -> set[str]:
    root = data_dir / "recordings"
    return {p.relative_to(root).as_posix() for p in (root / slug).rglob("*.mp4")}


def test_runworkers_follows_the_admin_survives_a_killed_capture_and_stops_cleanly(server, tmp_path):
    a = add_camera("cam-a", server.url())
    process = start_runworkers(tmp_path, tmp_path / "runworkers.log")
    try:
        wait_for(lambda: Segment.objects.filter(camera=a).count() >= 2, 40, "cam-a recorded")

        # kill -9 of the capture process: the supervisor starts another, and the file
        # it was writing keeps what reached the disk and gets its row.
        [victim] = capture_children(process.pid)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: capture_children(process.pid) not in ([], [victim]), 20, "a new capture process")
        wait_for(
            lambda: files_of(tmp_path, "cam-a") <= set(Segment.objects.filter(camera=a).values_list("path", flat=True)),
            20,
            "every file of cam-a has its row",
        )

        # The admin disables cam-a and adds cam-b: no restart needed.
        a.enabled = False
        save_camera(a)
        b = add_camera("cam-b", server.url())
        wait_for(lambda: Segment.objects.filter(camera=b).count() >= 2, 30, "cam-b recorded")
        wait_for(lambda: not CameraLease.objects.filter(camera=a).exists(), 10, "cam-a let go")
        recorded_a = Segment.objects.filter(camera=a).count()
        wait_for(lambda: Segment.objects.filter(camera=b).count() >= 4, 20, "more of cam-b")
        assert Segment.objects.filter(camera=a).count() == recorded_a
        assert len(capture_children(process.pid)) == 1
        started = worker_tree(process.pid)
    finally:
        code = stop(process)

    assert code == 0
    wait_for(lambda: not any(running(pid) for pid in started), 10, "every worker process gone")
    assert files_of(tmp_path, "cam-b") == set(Segment.objects.filter(camera=b).values_list("path", flat=True))
    for segment in Segment.objects.all():
        assert video_packets(tmp_path / "recordings" / segment.path)[0].is_keyframe


def test_two_hosts_never_record_a_camera_twice_and_one_takes_over_from_the_other(server, tmp_path):
    cameras = [add_camera(slug, server.url()) for slug in ("cam-x", "cam-y")]
    first = start_runworkers(tmp_path, tmp_path / "first.log")
    wait_for(lambda: CameraLease.objects.count() == 2, 30, "the first host takes both cameras")
    second = start_runworkers(tmp_path, tmp_path / "second.log")
    try:
        wait_for(lambda: all(Segment.objects.filter(camera=c).count() >= 2 for c in cameras), 40, "both recorded")
        assert len(set(CameraLease.objects.values_list("host", flat=True))) == 1

        # The first host dies without a word: its leases expire and the second takes over.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        died = Segment.objects.order_by("-end").first().end
        wait_for(
            lambda: all(Segment.objects.filter(camera=c, start__gt=died).exists() for c in cameras),
            40,
            "the second host records both cameras",
        )
    finally:
        stop(second)
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)

    for camera in cameras:
        spans = list(Segment.objects.filter(camera=camera).order_by("start").values_list("start", "end"))
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"{camera.slug} was recorded twice at {start}"
