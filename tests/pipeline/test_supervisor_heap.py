"""The runworkers loop keeps its heap flat: the garbage a round leaves in reference cycles
(status broadcasts through async_to_sync, query internals) is collected on the loop's clock
instead of piling up until CPython's rare full collection (bench/soak: ~10 MB/h)."""

from __future__ import annotations

import gc
import multiprocessing

import pytest

from cameras.models import Camera
from cameras.services import save_camera
from core.heap import HeapKeeper
from pipeline.reports import StatusReport
from pipeline.supervisor import Supervisor


class ReportingProcess:
    """A capture process that never dies by itself and reports over a real pipe. Waiting for
    it moves the loop's fake clock, so a stop always reaches its kill deadline."""

    def __init__(self, spec, clock: list[float]):
        self.spec = spec
        self.clock = clock
        self.pid = id(self)
        self.exitcode = None
        self.alive = True
        self.reports, self.sender = multiprocessing.Pipe(duplex=False)

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.alive, self.exitcode = False, 0

    def join(self, timeout):
        self.clock[0] += timeout
        return not self.alive

    def kill(self):
        self.alive = False


def run_loop(keeper_every_s: float | None, rounds: int = 600) -> int:
    """Rounds of the supervisor (0.2 s each on its clock) with a camera going offline and
    back every 20 s; returns what a full collection finds left over at the end."""
    clock = [0.0]
    tick = lambda: clock[0]  # noqa: E731
    processes = []

    def spawn(spec):
        processes.append(ReportingProcess(spec, clock))
        return processes[-1]

    supervisor = Supervisor(host="heap-host", spawn=spawn, clock=tick, refresh_s=3.0)
    keeper = HeapKeeper(interval_s=keeper_every_s, clock=tick) if keeper_every_s else None
    gc.collect()
    # CPython's own collections come when its counters say, which other tests move: off here,
    # so what is left over is what the loop made and did not collect itself.
    gc.disable()
    try:
        left = _rounds(supervisor, keeper, processes, clock, rounds)
    finally:
        gc.enable()
    supervisor.stop()
    return left


def _rounds(supervisor, keeper, processes, clock, rounds: int) -> int:
    for n in range(rounds):
        clock[0] += 0.2
        for process in processes:
            if n % 25 == 0:
                down = n % 100 < 25
                fields = {"last_error": "stream ended"} if down else {"fps": 15.0, "width": 1280, "height": 720}
                process.sender.send(StatusReport(process.spec.id, "offline" if down else "online", fields))
        supervisor.step()
        if keeper is not None:
            keeper.step()
    return gc.collect()


@pytest.fixture
def cameras(db):
    for i in range(1, 4):
        save_camera(Camera(name=f"cam-{i}", slug=f"cam-{i}", stream_url=f"rtsp://127.0.0.1:9/c{i}"))


@pytest.mark.django_db(transaction=True)  # status broadcasts run on commit, as in runworkers
def test_a_supervisor_loop_with_the_heap_keeper_leaves_little_garbage(cameras):
    without = run_loop(keeper_every_s=None)
    with_keeper = run_loop(keeper_every_s=10.0)
    assert without > 200, f"the loop made too little cyclic garbage to tell ({without} objects)"
    assert with_keeper < without / 4


def test_the_heap_keeper_collects_on_its_clock_only():
    now = [0.0]
    keeper = HeapKeeper(interval_s=60.0, clock=lambda: now[0])
    assert not keeper.step()
    now[0] = 59.9
    assert not keeper.step()
    now[0] = 60.0
    assert keeper.step()
    assert not keeper.step()
