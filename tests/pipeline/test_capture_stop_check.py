"""A capture process asks before every packet whether it should stop (stop requested, its
parent gone, its supervisor's pipe broken), but works the answer out only every
`every_s`: the answer costs system calls, and 15 packets a second need it 10 times at most."""

from __future__ import annotations

import multiprocessing
import os
from types import SimpleNamespace

from pipeline.processes.capture import StopCheck


class CountingEvent:
    def __init__(self):
        self.flag = False
        self.asked = 0

    def is_set(self) -> bool:
        self.asked += 1
        return self.flag


def test_a_stop_is_seen_within_the_interval_and_not_asked_for_between():
    clock = [100.0]
    check = StopCheck(every_s=0.1, clock=lambda: clock[0])
    stop, sender, parent = CountingEvent(), SimpleNamespace(broken=False), os.getppid()

    assert check(stop, parent, sender) is False
    for _ in range(50):  # packets within the same tenth of a second
        clock[0] += 0.001
        assert check(stop, parent, sender) is False
    assert stop.asked == 1

    stop.flag = True
    clock[0] += 0.02  # 0.07 s after the first answer
    assert check(stop, parent, sender) is False  # not yet worked out again
    clock[0] += 0.04
    assert check(stop, parent, sender) is True
    assert stop.asked == 2


def test_a_gone_parent_or_a_broken_pipe_stops_the_process():
    clock = [0.0]
    stop = multiprocessing.get_context("spawn").Event()

    check = StopCheck(every_s=0.1, clock=lambda: clock[0])
    assert check(stop, os.getppid(), SimpleNamespace(broken=False)) is False
    clock[0] += 0.2
    assert check(stop, os.getppid() + 1, SimpleNamespace(broken=False)) is True  # reparented: the supervisor died

    check = StopCheck(every_s=0.1, clock=lambda: clock[0])
    assert check(stop, os.getppid(), SimpleNamespace(broken=True)) is True

    check = StopCheck(every_s=0.1, clock=lambda: clock[0])
    stop.set()
    assert check(stop, os.getppid(), SimpleNamespace(broken=False)) is True
