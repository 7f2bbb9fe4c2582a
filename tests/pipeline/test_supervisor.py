"""The supervisor's decisions, driven round by round with fake processes and a fake clock
on the real database: which cameras run, restarts, flapping, leases between hosts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Camera, CameraLease
from cameras.services import save_camera
from pipeline.restarts import FLAP_RESTARTS
from pipeline.supervisor import Supervisor


class FakeProcess:
    def __init__(self, spec):
        self.spec = spec
        self.alive = True
        self.exitcode = None
        self.stop_requested = False
        self.pid = id(self)

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.stop_requested = True
        self.alive = False  # finishes its segment at once, here
        self.exitcode = 0

    def join(self, timeout):
        return not self.alive

    def kill(self):
        self.alive = False

    def crash(self):
        self.alive = False
        self.exitcode = -9


class Clock:
    def __init__(self):
        self.t = 1000.0
        self.wall = timezone.now()

    def __call__(self):
        return self.t

    def now(self):
        return self.wall + timedelta(seconds=self.t - 1000.0)

    def advance(self, seconds):
        self.t += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def spawned():
    return []


def make_supervisor(clock, spawned, host="host-a", errors=None):
    def spawn(spec):
        process = FakeProcess(spec)
        spawned.append(process)
        return process

    return Supervisor(
        host=host,
        spawn=spawn,
        clock=clock,
        now=clock.now,
        refresh_s=3.0,
        mark_error=lambda camera_id, message: (errors if errors is not None else []).append((camera_id, message)),
        after_crash=lambda spec: None,
    )


def add_camera(slug, **fields):
    return save_camera(Camera(name=slug.title(), slug=slug, stream_url=f"rtsp://192.0.2.1/{slug}", **fields))


def running(supervisor):
    return sorted(slot.spec.slug for slot in supervisor.slots.values() if slot.handle is not None)


@pytest.mark.django_db
def test_it_runs_one_process_per_enabled_camera(clock, spawned):
    add_camera("gate")
    add_camera("yard")
    add_camera("off", enabled=False)
    supervisor = make_supervisor(clock, spawned)

    supervisor.step()

    assert running(supervisor) == ["gate", "yard"]
    assert len(spawned) == 2


@pytest.mark.django_db
def test_it_follows_the_admin_without_a_restart(clock, spawned):
    gate = add_camera("gate")
    supervisor = make_supervisor(clock, spawned)
    supervisor.step()

    gate.enabled = False
    save_camera(gate)
    add_camera("yard")
    clock.advance(3)
    supervisor.step()

    assert running(supervisor) == ["yard"]
    assert spawned[0].stop_requested


@pytest.mark.django_db
def test_a_changed_camera_gets_a_new_process_with_the_new_settings(clock, spawned):
    gate = add_camera("gate")
    supervisor = make_supervisor(clock, spawned)
    supervisor.step()

    gate.segment_seconds = 60
    save_camera(gate)
    clock.advance(3)
    supervisor.step()

    assert spawned[0].stop_requested
    assert spawned[-1].spec.segment_seconds == 60 and spawned[-1].is_alive()


@pytest.mark.django_db
def test_a_dead_process_is_restarted_after_a_backoff(clock, spawned):
    add_camera("gate")
    supervisor = make_supervisor(clock, spawned)
    supervisor.step()

    spawned[0].crash()
    supervisor.step()
    assert running(supervisor) == []  # waiting out the backoff

    clock.advance(2)
    supervisor.step()
    assert running(supervisor) == ["gate"] and len(spawned) == 2


@pytest.mark.django_db
def test_a_flapping_process_is_given_up_on_and_its_camera_marked_in_error(clock, spawned):
    gate = add_camera("gate")
    errors = []
    supervisor = make_supervisor(clock, spawned, errors=errors)

    for _ in range(60):  # a minute, one round a second, the process crashing at once each time
        supervisor.step()
        if spawned and spawned[-1].is_alive():
            spawned[-1].crash()
        clock.advance(1)

    assert len(spawned) == FLAP_RESTARTS
    assert errors and errors[0][0] == gate.pk and "crashed" in errors[0][1]
    clock.advance(300)
    supervisor.step()
    assert len(spawned) == FLAP_RESTARTS  # still resting


@pytest.mark.django_db
def test_two_hosts_never_run_the_same_camera(clock, spawned):
    for slug in ("gate", "yard", "dock"):
        add_camera(slug)
    a = make_supervisor(clock, spawned, host="host-a")
    b = make_supervisor(clock, spawned, host="host-b")

    a.step()
    b.step()

    assert running(a) == ["dock", "gate", "yard"]
    assert running(b) == []
    assert set(CameraLease.objects.values_list("host", flat=True)) == {"host-a"}


@pytest.mark.django_db
def test_a_dead_hosts_cameras_are_taken_over_when_its_leases_expire(clock, spawned):
    add_camera("gate")
    a = make_supervisor(clock, spawned, host="host-a")
    b = make_supervisor(clock, spawned, host="host-b")
    a.step()
    b.step()

    # host-a dies: it no longer renews. Before the lease runs out, b must wait.
    clock.advance(20)
    b.step()
    assert running(b) == []

    clock.advance(15)
    b.step()
    assert running(b) == ["gate"]
    assert CameraLease.objects.get().host == "host-b"


@pytest.mark.django_db
def test_stopping_frees_the_leases_for_another_host_at_once(clock, spawned):
    add_camera("gate")
    a = make_supervisor(clock, spawned, host="host-a")
    b = make_supervisor(clock, spawned, host="host-b")
    a.step()

    a.stop()
    b.step()

    assert spawned[0].stop_requested
    assert running(b) == ["gate"]
