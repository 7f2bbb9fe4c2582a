"""Periodic tasks (retention, purges, checks) run on one worker host at a time, about once
per interval over all the hosts sharing the database."""

from __future__ import annotations

import pytest

from cameras.models import TaskLease
from core.periodic import OneHostAtATime, PeriodicTask
from pipeline.cluster.leases import TaskTurns
from pipeline.supervisor import Supervisor
from recordings.retention import RetentionTask
from tests.pipeline.cluster import Clock


class Counting(PeriodicTask):
    def __init__(self, clock, runs, host, during=None):
        super().__init__(interval_s=60, clock=clock)
        self.runs = runs
        self.host = host
        self.during = during  # called while running: another host's round, say

    @property
    def name(self):
        return "tests.counting"  # the same task on every host

    def run(self):
        self.runs.append((self.clock(), self.host))
        if self.during is not None:
            self.during()


def shared(clock, runs, host, **kwargs):
    turns = TaskTurns(host=host, instance=f"{host}-1", now=clock.now)
    return OneHostAtATime(Counting(clock, runs, host, **kwargs), turns)


@pytest.mark.django_db
def test_a_task_runs_once_per_interval_over_all_hosts():
    clock, runs = Clock(), []
    hosts = [shared(clock, runs, name) for name in ("host-a", "host-b", "host-c")]

    for _ in range(600):  # ten minutes, every host stepping every second
        for task in hosts:
            task.step()
        clock.advance(1)

    assert 10 <= len(runs) <= 11  # not 30
    times = [t for t, _ in runs]
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[1:], strict=False))


@pytest.mark.django_db
def test_two_hosts_never_run_a_task_at_once():
    clock, runs = Clock(), []
    b = shared(clock, runs, "host-b")

    def b_tries_meanwhile():
        clock.advance(120)  # a long run: the interval has passed while it goes on
        assert b.step() is False

    a = shared(clock, runs, "host-a", during=b_tries_meanwhile)
    a.step()

    assert [host for _, host in runs] == ["host-a"]
    clock.advance(60)
    assert b.step() is True  # once a is done, b may take its turn
    assert [host for _, host in runs] == ["host-a", "host-b"]


@pytest.mark.django_db
def test_a_host_that_dies_mid_run_holds_the_task_only_for_a_while():
    clock, runs = Clock(), []
    TaskTurns(host="host-a", instance="a-1", now=clock.now, hold_s=900).take("tests.counting", 60)  # and dies
    b = shared(clock, runs, "host-b")

    for _ in range(14):
        clock.advance(60)
        b.step()
    assert runs == []
    clock.advance(120)
    b.step()
    assert [host for _, host in runs] == ["host-b"]
    assert TaskLease.objects.get().host == "host-b"


@pytest.mark.django_db
def test_the_supervisor_shares_every_periodic_task_except_per_host_ones():
    class Local(PeriodicTask):
        on_every_host = True

        def run(self):
            pass

    retention, local = RetentionTask(), Local(interval_s=5)
    supervisor = Supervisor(host="host-a", tasks=[retention, local], spawn=lambda spec: None)

    assert isinstance(supervisor.tasks[0], OneHostAtATime) and supervisor.tasks[0].task is retention
    assert supervisor.tasks[1] is local
