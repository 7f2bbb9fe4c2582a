"""The stage pool tells the web what its detector and face processes are doing (running,
restarting, given up; pid, restarts, recent exits) through a Redis key per stage, and drops a
dead stage process's live Prometheus gauges at once (issue 15, items 12 and 13)."""

from __future__ import annotations

import itertools

import pytest
import redis
from django.conf import settings

from detection.status import STAGE_PREFIX, StageStatus, stage_statuses
from pipeline import stage_pool as stages
from pipeline.stage_pool import RedisStageReport, StagePool, StageSpec

pids = itertools.count(41_000)


class FakeStage:
    def __init__(self, spec, queue):
        self.spec, self.queue, self.pid = spec, queue, next(pids)
        self.alive, self.exitcode = True, None

    def is_alive(self):
        return self.alive

    def die(self, code=-9):
        self.alive, self.exitcode = False, code

    def request_stop(self):
        self.alive = False

    def join(self, timeout):
        return not self.alive

    def kill(self):
        self.alive = False


class Wall:
    def __init__(self):
        self.t = 1_800_000_000.0

    def __call__(self):
        return self.t


def pool_with(reports, gone=None, wall=None):
    started = []
    spawn = lambda spec, q: started.append(FakeStage(spec, q)) or started[-1]  # noqa: E731
    pool = StagePool(
        [StageSpec("detector-cpu", "x:y", "detection")], spawn=spawn, make_queue=lambda size: object(),
        host="nvr-test", report=reports.append, wall=wall or Wall(),
        process_gone=(gone.append if gone is not None else lambda pid: None),
    )  # fmt: skip
    return pool, started


def latest(reports) -> StageStatus:
    [status] = reports[-1]
    return status


def test_a_running_detector_is_reported_with_its_pid():
    reports = []
    pool, started = pool_with(reports)
    pool.tend(100.0, wanted={"detection"})
    status = latest(reports)
    assert (status.host, status.name, status.queue, status.kind) == (
        "nvr-test",
        "detector-cpu",
        "detection",
        "Detector",
    )
    assert (status.state, status.pid, status.restarts) == ("running", started[0].pid, 0)


def test_a_detector_that_dies_is_reported_restarting_then_running_again():
    reports, gone = [], []
    pool, started = pool_with(reports, gone)
    pool.tend(100.0, wanted={"detection"})
    started[0].die(-9)

    pool.tend(100.1, wanted={"detection"})
    status = latest(reports)
    assert (status.state, status.pid, status.restarts, status.last_exit_code) == ("restarting", None, 1, -9)
    assert len(status.recent_exits) == 1
    assert gone == [started[0].pid]  # its metrics went with it

    pool.tend(140.0, wanted={"detection"})
    assert (latest(reports).state, latest(reports).pid) == ("running", started[1].pid)


def test_a_flapping_detector_is_reported_given_up():
    reports = []
    wall = Wall()
    pool, started = pool_with(reports, wall=wall)
    t = 100.0
    pool.tend(t, wanted={"detection"})
    while len(started) < 6 and t < 200:
        started[-1].die(1)
        t += 0.5
        wall.t += 0.5
        pool.tend(t, wanted={"detection"})
        for _ in range(40):  # past the backoff
            t += 0.5
            wall.t += 0.5
            pool.tend(t, wanted={"detection"})
            if started[-1].alive:
                break
    status = latest(reports)
    assert status.state == "given_up"
    assert status.restarts == 5 and len(status.recent_exits) == 5
    assert status.given_up_until > wall.t


def test_a_detector_no_camera_needs_is_reported_stopped():
    reports = []
    pool, _ = pool_with(reports)
    pool.tend(100.0, wanted={"detection"})
    pool.tend(101.0, wanted=set())
    assert latest(reports).state == "stopped"


def test_statuses_are_rewritten_only_on_a_change_or_every_few_seconds():
    reports = []
    pool, _ = pool_with(reports)
    pool.tend(100.0, wanted={"detection"})
    for t in (100.2, 101.0, 104.0):
        pool.tend(t, wanted={"detection"})
    assert len(reports) == 1
    pool.tend(105.1, wanted={"detection"})
    assert len(reports) == 2


def test_a_dead_stage_process_leaves_no_live_gauge_behind():
    """core.metrics' live gauges (queue depth) are files per pid: gone with the process."""
    reports = []
    pool, started = pool_with(reports)
    pool.process_gone = stages._forget_metrics  # the real one, as runworkers uses
    pool.tend(100.0, wanted={"detection"})
    pid = started[0].pid
    gauge = settings.PROMETHEUS_MULTIPROC_DIR / f"gauge_livesum_{pid}.db"
    gauge.write_bytes(b"")
    started[0].die(-9)
    pool.tend(100.1, wanted={"detection"})
    assert not gauge.exists()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the test Redis")
def test_the_web_reads_what_the_pool_wrote_to_redis():
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=STAGE_PREFIX + "nvr-redis-test:*"):
        client.delete(key)
    pool, started = pool_with([])
    pool.host = "nvr-redis-test"
    pool.report = RedisStageReport()
    try:
        pool.tend(100.0, wanted={"detection"})
        [status] = [s for s in stage_statuses(client) if s.host == "nvr-redis-test"]
        assert (status.state, status.pid) == ("running", started[0].pid)
        assert 0 < client.ttl(STAGE_PREFIX + "nvr-redis-test:detector-cpu") <= 30
    finally:
        client.delete(STAGE_PREFIX + "nvr-redis-test:detector-cpu")


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the test Redis")
def test_a_stage_process_killed_is_reported_restarting_at_once_and_its_gauges_go(tmp_path):
    """A real stage process (the probe), killed with SIGKILL as the OOM killer would."""
    import os
    import signal
    import time

    from tests.waiting import wait_for

    client = redis.Redis.from_url(settings.REDIS_URL)
    spec = StageSpec("probe", "tests.pipeline.stage_probe:record_frames", "detection", {"out": str(tmp_path / "f")})
    pool = StagePool([spec], host="nvr-kill-test")

    def reported():
        pool.tend(wanted={"detection"})
        return next((s for s in stage_statuses(client) if s.host == "nvr-kill-test"), None)

    try:
        first = wait_for(lambda: (s := reported()) and s.state == "running" and s, 60, "the stage running")
        gauge = settings.PROMETHEUS_MULTIPROC_DIR / f"gauge_livesum_{first.pid}.db"
        gauge.write_bytes(b"")  # as core.metrics.queue_depth would leave it
        os.kill(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        down = wait_for(lambda: (s := reported()) and s.state == "restarting" and s, 10, "the death reported")
        seen_after = time.monotonic() - killed_at
        assert (down.restarts, down.last_exit_code) == (1, -signal.SIGKILL)
        assert not gauge.exists()
        assert seen_after < 2.0, f"reported {seen_after:.2f} s after the kill"
        again = wait_for(lambda: (s := reported()) and s.state == "running" and s, 60, "the stage restarted")
        assert again.pid != first.pid
    finally:
        pool.stop(10)
        client.delete(STAGE_PREFIX + "nvr-kill-test:probe")
