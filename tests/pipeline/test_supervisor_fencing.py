"""Fencing: a host whose database fails or stalls past its lease stops writing before the
lease expires and another host takes its cameras, so no camera is ever recorded twice."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from pipeline.cluster.fencing import Ticker
from tests.pipeline.cluster import LEASE_S, Cluster, add_cameras
from tests.waiting import wait_for


class DatabaseGone:
    """An execute_wrapper: every query of the connection it is installed on fails."""

    def __call__(self, execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")


class DatabaseStalled:
    """An execute_wrapper: the first query hangs until `release`, then fails."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, execute, sql, params, many, context):
        self.entered.set()
        self.release.wait(60)
        raise OperationalError("could not receive data from server: Connection timed out")


def writers_of(cluster, host):
    return sorted(p.spec.id for p in cluster.processes if p.host == host and p.is_alive())


@pytest.mark.django_db(transaction=True)  # a failed query inside the test's transaction would spoil it
def test_a_host_whose_database_fails_stops_writing_before_another_may_take_over():
    cluster = Cluster()
    cameras = add_cameras(2)
    a = cluster.start("host-a")
    cluster.rounds(1)
    cluster.start("host-b")
    cluster.rounds(1)
    assert writers_of(cluster, "host-a") == sorted(c.pk for c in cameras)
    renewed_at = a.fence.until - (a.fence.ttl_s - a.fence.margin_s)  # a's last renewal: its leases end at + LEASE_S

    stopped_at = None
    taken_at = None
    for _ in range(2 * LEASE_S):
        with connection.execute_wrapper(DatabaseGone()):
            a.step()
        if stopped_at is None and not writers_of(cluster, "host-a"):
            stopped_at = cluster.clock()
        cluster.hosts["host-b"].step()
        if taken_at is None and writers_of(cluster, "host-b"):
            taken_at = cluster.clock()
        cluster.check()  # never two writers for one camera
        cluster.clock.advance(1)

    assert stopped_at is not None and taken_at is not None
    assert stopped_at < renewed_at + LEASE_S - 1  # before its leases ran out, with a margin
    assert taken_at >= renewed_at + LEASE_S  # the other host took only expired leases
    assert writers_of(cluster, "host-b") == sorted(c.pk for c in cameras)


@pytest.mark.django_db(transaction=True)
def test_a_host_stuck_in_a_stalled_database_call_is_stopped_by_its_watchdog():
    cluster = Cluster()
    add_cameras(2)
    a = cluster.start("host-a")
    cluster.rounds(1)
    b = cluster.start("host-b")
    cluster.rounds(1)
    renewed_at = a.fence.until - (a.fence.ttl_s - a.fence.margin_s)
    cluster.clock.advance(a.refresh_s)  # a's next round renews: it will hang in the database
    stall = DatabaseStalled()

    def a_round():
        with connection.execute_wrapper(stall):
            a.step()
        connection.close()  # this thread's own connection

    watchdog = Ticker(a.guard_fence, every_s=0.01).start()
    stuck = threading.Thread(target=a_round)
    stuck.start()
    try:
        assert stall.entered.wait(30)
        stopped_at = None
        while cluster.clock() < renewed_at + 2 * LEASE_S:
            if stopped_at is None and not writers_of(cluster, "host-a"):
                stopped_at = cluster.clock()
            b.step()
            cluster.check()  # b never starts a camera a still writes
            cluster.clock.advance(1)
            # a's watchdog runs on a thread of its own: give it its turn at this second.
            wait_for(
                lambda: cluster.clock() < a.fence.until or not writers_of(cluster, "host-a"), 10, "the watchdog to act"
            )
        assert stopped_at is not None and stopped_at <= renewed_at + LEASE_S - 1
        assert writers_of(cluster, "host-b") == sorted(p.spec.id for p in cluster.processes[:2])
    finally:
        stall.release.set()
        stuck.join(30)
        watchdog.stop()
    assert not stuck.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_long_round_of_the_loop_does_not_fence_a_host_whose_database_is_fine():
    cluster = Cluster()
    add_cameras(2)
    a = cluster.start("host-a")
    cluster.rounds(1)
    writers = writers_of(cluster, "host-a")
    assert len(writers) == 2

    # The lease keeper and the watchdog run on threads of their own, as in runworkers.
    keeper = Ticker(a.renew, every_s=0.01, name="lease-keeper").start()
    watchdog = Ticker(a.guard_fence, every_s=0.01).start()
    try:
        for _ in range(3 * LEASE_S):  # the loop is stuck 90 s in a retention run, say
            renewed = a.fence.until
            cluster.clock.advance(1)
            wait_for(lambda: a.fence.until > renewed, 10, "the keeper to renew")  # noqa: B023
        assert writers_of(cluster, "host-a") == writers
    finally:
        keeper.stop()
        watchdog.stop()
    a.step()
    assert writers_of(cluster, "host-a") == writers


@pytest.mark.django_db(transaction=True)
def test_a_fenced_host_whose_cameras_were_taken_starts_none_of_them_when_the_database_returns():
    cluster = Cluster()
    add_cameras(2)
    a = cluster.start("host-a")
    cluster.rounds(1)
    b = cluster.start("host-b")
    for _ in range(LEASE_S + 5):  # a cannot reach the database; b takes the expired leases
        with connection.execute_wrapper(DatabaseGone()):
            a.step()
        b.step()
        cluster.clock.advance(1)
    assert len(writers_of(cluster, "host-b")) == 2 and not writers_of(cluster, "host-a")

    # The database is back: a's lease keeper runs before its loop's next refresh.
    assert a.renew() is False  # its leases are gone: it may not vouch for its cameras
    assert a.fence.tripped(cluster.clock())
    cluster.rounds(2 * LEASE_S)  # then its rounds: it gets its share back, handed over by b

    assert len(writers_of(cluster, "host-a")) == 1 and len(writers_of(cluster, "host-b")) == 1
