"""Three worker hosts sharing one database, driven round by round with fake processes and
one fake clock: they share the cameras, a killed host's cameras move once its leases
expire, its return rebalances without flapping, and no camera is ever recorded twice."""

from __future__ import annotations

import os

import pytest

from cameras.models import CameraLease, WorkerHost
from cameras.services import save_camera
from pipeline.supervisor import Supervisor
from tests.pipeline.cluster import LEASE_S, Cluster, add_cameras


@pytest.fixture
def cluster():
    return Cluster()


@pytest.mark.django_db
def test_three_hosts_converge_to_two_cameras_each(cluster):
    add_cameras(6)
    for name in ("host-a", "host-b", "host-c"):
        cluster.start(name)

    cluster.rounds(2 * LEASE_S)

    assert cluster.shares() == {"host-a": 2, "host-b": 2, "host-c": 2}
    # The first host took all six; four moved on once the lease period had passed, each once.
    assert cluster.handovers() == 4
    assert all(len(history) <= 2 for history in cluster.moves.values())


@pytest.mark.django_db
def test_a_killed_hosts_cameras_move_once_after_its_lease_and_come_back_without_flapping(cluster):
    add_cameras(6)
    for name in ("host-a", "host-b", "host-c"):
        cluster.start(name)
    cluster.rounds(2 * LEASE_S)
    assert cluster.shares() == {"host-a": 2, "host-b": 2, "host-c": 2}
    before = cluster.handovers()
    orphaned = [camera_id for camera_id, host in cluster.holders().items() if host == "host-a"]

    cluster.kill("host-a")
    killed_at = cluster.clock()
    cluster.rounds(LEASE_S - 5)
    assert set(orphaned).isdisjoint(cluster.holders())  # nobody takes a live lease
    cluster.rounds(10)

    assert cluster.shares() == {"host-b": 3, "host-c": 3}
    assert cluster.handovers() - before == 2  # each of its cameras moved once
    for camera_id in orphaned:
        moved_at, _ = cluster.moves[camera_id][-1]
        assert moved_at >= killed_at + LEASE_S - 5

    # host-a comes back (a new process, same host id): it gets its share back.
    before = cluster.handovers()
    cluster.start("host-a")
    cluster.rounds(3 * LEASE_S)

    assert cluster.shares() == {"host-a": 2, "host-b": 2, "host-c": 2}
    assert cluster.handovers() - before == 2  # no camera moved more than needed
    for history in cluster.moves.values():
        times = [t for t, _ in history]
        assert all(later - earlier >= LEASE_S for earlier, later in zip(times, times[1:], strict=False))


@pytest.mark.django_db
def test_a_camera_with_ai_weighs_more_than_one_without(cluster):
    cameras = add_cameras(4)
    for camera in cameras[:2]:
        camera.ai_enabled = True
        camera.attendance_enabled = True
        save_camera(camera)  # weight 3 each; the two others weigh 1
    cluster.start("host-a")
    cluster.start("host-b")

    cluster.rounds(2 * LEASE_S)

    heavy = {cameras[0].pk, cameras[1].pk}
    holders = cluster.holders()
    assert holders[cameras[0].pk] != holders[cameras[1].pk]  # one heavy camera each: 4 and 4
    assert cluster.shares() == {"host-a": 2, "host-b": 2}
    assert len({holders[c] for c in heavy}) == 2


@pytest.mark.django_db
def test_a_restarted_process_resumes_its_own_cameras_at_once(cluster):
    add_cameras(3)
    cluster.start("nvr-1")
    cluster.rounds(2)
    assert cluster.shares() == {"nvr-1": 3}

    cluster.kill("nvr-1")
    cluster.rounds(1)
    cluster.start("nvr-1", lock_held=True)  # the host's lock was free: its predecessor is gone
    cluster.rounds(1)

    assert cluster.shares() == {"nvr-1": 3}
    assert set(CameraLease.objects.values_list("instance", flat=True)) == {cluster.hosts["nvr-1"].me.instance}


@pytest.mark.django_db
def test_a_second_live_process_of_one_host_stands_by(cluster):
    add_cameras(2)
    first = cluster.start("nvr-1", lock_held=True)
    cluster.rounds(2)
    second = Supervisor(
        host="nvr-1", spawn=lambda spec: pytest.fail("the standby started a camera"), clock=cluster.clock,
        now=cluster.clock.now, lease_s=LEASE_S, reconcile=lambda spec: None,
    )  # fmt: skip

    for _ in range(2 * LEASE_S):
        second.step()  # it cannot hold the lock: another live process of nvr-1 has it
        cluster.rounds(1)

    assert not second.registered and not second.slots
    assert WorkerHost.objects.get(host="nvr-1").instance == first.me.instance
    assert cluster.shares() == {"nvr-1": 2}


@pytest.mark.django_db
def test_a_live_predecessor_is_never_taken_for_a_dead_one_even_with_the_lock_free(cluster):
    add_cameras(2)
    first = cluster.start("nvr-1", lock_held=True)
    cluster.rounds(2)
    # A misconfiguration: a second process of nvr-1 with a lock of its own (a STATE_DIR of its
    # own); the first one's pid still runs here.
    WorkerHost.objects.filter(host="nvr-1").update(pid=os.getppid())
    second = Supervisor(
        host="nvr-1", lock_held=True, spawn=lambda spec: pytest.fail("the standby started a camera"),
        clock=cluster.clock, now=cluster.clock.now, lease_s=LEASE_S, reconcile=lambda spec: None,
    )  # fmt: skip

    for _ in range(LEASE_S):
        second.step()
        cluster.rounds(1)

    assert not second.registered
    assert WorkerHost.objects.get(host="nvr-1").instance == first.me.instance
