"""Reconcile with several worker hosts on one RECORDINGS_DIR: a host reconciles only the
cameras it holds, never a file someone may still be writing, and registers what a crashed
host left half-written once it has taken the camera over."""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta

import pytest

from cameras.models import Camera, CameraLease, WorkerHost
from cameras.services import save_camera
from pipeline.supervisor import RECONCILE_MARGIN_S, Supervisor
from recordings.models import Segment
from recordings.reconcile import reconcile_recordings
from tests.pipeline.cluster import Clock
from tests.recordings.conftest import relative_path, write_fragmented_mp4
from tests.recordings.test_reconcile import header_only

SEGMENT_S = 10


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_fragmented_mp4(tmp_path_factory.mktemp("hosts") / "rec.mp4", frames=40, fps=10)


def half_written(recordings_dir, source, slug, start, *, age_s: float):
    """A file cut off mid-fragment, last written `age_s` seconds ago."""
    relative = relative_path(slug, start)
    file = recordings_dir / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, file)
    os.truncate(file, int(file.stat().st_size * 0.6))
    age(file, age_s)
    return file, relative


def age(file, seconds):
    then = time.time() - seconds
    os.utime(file, (then, then))


def add_camera(slug):
    return save_camera(
        Camera(name=slug.title(), slug=slug, stream_url=f"rtsp://192.0.2.1/{slug}", segment_seconds=SEGMENT_S)
    )


def make_host(clock, name="host-a"):
    return Supervisor(
        host=name,
        spawn=lambda spec: FakeProcess(),
        clock=clock,
        now=clock.now,
        lease_s=30,
        mark_error=lambda *a: None,
        after_crash=lambda spec: None,
    )  # the real reconcile of cameras taken over


class FakeProcess:
    alive = True
    pid = exitcode = None

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.alive = False

    def join(self, timeout):
        return True

    def kill(self):
        self.alive = False


def test_a_file_written_lately_is_left_alone(recordings_dir, camera, recording):
    start = Clock().now()
    writing = recordings_dir / relative_path("gate", start)
    writing.parent.mkdir(parents=True)
    writing.write_bytes(header_only(recording))  # another host's writer, before its first fragment

    report = reconcile_recordings(cameras=[camera], settled_s=SEGMENT_S + RECONCILE_MARGIN_S)

    assert writing.exists() and report.deleted_files == 0 and not Segment.objects.exists()
    age(writing, SEGMENT_S + RECONCILE_MARGIN_S + 1)  # nobody wrote to it since: abandoned
    assert reconcile_recordings(cameras=[camera], settled_s=SEGMENT_S + RECONCILE_MARGIN_S).deleted_files == 1


@pytest.mark.django_db
def test_a_host_reconciles_only_the_cameras_it_holds(recordings_dir, recording):
    clock = Clock()
    gate, yard = add_camera("gate"), add_camera("yard")
    # host-b is alive and writes the gate: its file is half-written, and settled by mtime
    # (a camera that froze), yet it is host-b's to reconcile.
    WorkerHost.objects.create(
        host="host-b", instance="b-1", machine="m", pid=1, started_at=clock.now(), heartbeat_at=clock.now()
    )
    CameraLease.objects.create(
        camera=gate, host="host-b", instance="b-1", expires_at=clock.now() + timedelta(hours=1), acquired_at=clock.now()
    )
    gate_file, _ = half_written(recordings_dir, recording, "gate", clock.now(), age_s=3600)
    gate_size = gate_file.stat().st_size
    yard_file, yard_path = half_written(recordings_dir, recording, "yard", clock.now(), age_s=3600)
    host = make_host(clock)

    for _ in range(2 * (SEGMENT_S + int(RECONCILE_MARGIN_S)) + 2):
        host.step()
        clock.advance(1)

    assert list(host.slots) == [yard.pk]
    assert Segment.objects.filter(camera=yard, path=yard_path).exists()
    assert gate_file.stat().st_size == gate_size and not Segment.objects.filter(camera=gate).exists()


@pytest.mark.django_db
def test_the_host_taking_over_a_crashed_hosts_camera_registers_its_half_written_file(recordings_dir, recording):
    clock = Clock()
    gate = add_camera("gate")
    long_ago = clock.now() - timedelta(minutes=5)
    WorkerHost.objects.create(
        host="host-b", instance="b-1", machine="m", pid=1, started_at=long_ago, heartbeat_at=long_ago
    )
    CameraLease.objects.create(camera=gate, host="host-b", instance="b-1", expires_at=long_ago, acquired_at=long_ago)
    crashed, relative = half_written(recordings_dir, recording, "gate", long_ago, age_s=1)  # it died a second ago
    host = make_host(clock)

    host.step()
    assert list(host.slots) == [gate.pk]
    assert not Segment.objects.exists()  # too fresh: someone might still be writing it

    clock.advance(2 * (SEGMENT_S + RECONCILE_MARGIN_S))
    age(crashed, 2 * (SEGMENT_S + RECONCILE_MARGIN_S) + 1)  # and nobody did
    host.step()

    segment = Segment.objects.get(camera=gate)
    assert segment.path == relative and segment.size_bytes == crashed.stat().st_size


@pytest.mark.django_db
def test_a_file_the_old_holder_wrote_to_just_after_the_take_over_still_gets_its_row(recordings_dir, recording):
    # runworkers killed with -9 and restarted at once: its old capture process writes on for
    # a moment after the new process has taken the camera, then notices and stops.
    clock = Clock()
    gate = add_camera("gate")
    long_ago = clock.now() - timedelta(minutes=5)
    WorkerHost.objects.create(
        host="host-b", instance="b-1", machine="m", pid=1, started_at=long_ago, heartbeat_at=long_ago
    )
    CameraLease.objects.create(camera=gate, host="host-b", instance="b-1", expires_at=long_ago, acquired_at=long_ago)
    late, relative = half_written(recordings_dir, recording, "gate", long_ago, age_s=0)
    host = make_host(clock)
    host.step()  # takes the camera
    settle = SEGMENT_S + RECONCILE_MARGIN_S

    clock.advance(settle)
    age(late, settle - 1)  # last written a second after the take over: not settled yet
    host.step()
    assert not Segment.objects.exists()

    clock.advance(settle)
    age(late, 2 * settle - 1)
    host.step()
    assert Segment.objects.get(camera=gate).path == relative
