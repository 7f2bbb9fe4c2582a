"""A running analysis whose process died (an RQ worker killed, `manage.py analyze` killed in
its terminal) is marked failed once it has been silent for STALLED_AFTER, instead of showing
"running" until RQ's timeout, hours later, or for ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from detection.analysis.services import STALLED, STALLED_AFTER, StalledJobsTask, claim_job, fail_stalled_jobs
from detection.models import AnalysisJob, JobStatus

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def job(camera, status, *, heartbeat_ago: timedelta | None, started_ago: timedelta | None = None) -> AnalysisJob:
    return AnalysisJob.objects.create(
        camera=camera,
        start=NOW - timedelta(days=1),
        end=NOW - timedelta(days=1) + timedelta(hours=1),
        status=status,
        started_at=None if started_ago is None else NOW - started_ago,
        heartbeat_at=None if heartbeat_ago is None else NOW - heartbeat_ago,
    )


def test_only_running_jobs_silent_for_too_long_are_failed(camera):
    minute = timedelta(minutes=1)
    silent = job(camera, JobStatus.RUNNING, heartbeat_ago=STALLED_AFTER + minute, started_ago=3 * STALLED_AFTER)
    before_heartbeats = job(camera, JobStatus.RUNNING, heartbeat_ago=None, started_ago=STALLED_AFTER + minute)
    alive = job(camera, JobStatus.RUNNING, heartbeat_ago=timedelta(seconds=2), started_ago=5 * STALLED_AFTER)
    just_claimed = job(camera, JobStatus.RUNNING, heartbeat_ago=None, started_ago=minute)
    waiting = job(camera, JobStatus.QUEUED, heartbeat_ago=None)  # a long queue is not a dead worker
    finished = job(camera, JobStatus.DONE, heartbeat_ago=3 * STALLED_AFTER, started_ago=4 * STALLED_AFTER)

    assert fail_stalled_jobs(now=NOW) == 2

    status = dict(AnalysisJob.objects.values_list("pk", "status"))
    assert status[silent.pk] == status[before_heartbeats.pk] == JobStatus.FAILED
    assert status[alive.pk] == status[just_claimed.pk] == JobStatus.RUNNING
    assert status[waiting.pk] == JobStatus.QUEUED and status[finished.pk] == JobStatus.DONE
    silent.refresh_from_db()
    assert silent.error == STALLED and silent.finished_at == NOW


def test_claiming_a_job_starts_its_heartbeat(camera):
    queued = job(camera, JobStatus.QUEUED, heartbeat_ago=None)
    claimed = claim_job(queued.pk)
    assert claimed.status == JobStatus.RUNNING
    assert claimed.heartbeat_at is not None and claimed.heartbeat_at == claimed.started_at
    assert fail_stalled_jobs(now=timezone.now()) == 0


def test_the_task_checks_at_once_then_every_interval(camera):
    clock = [0.0]
    task = StalledJobsTask(interval_s=60, clock=lambda: clock[0], now=lambda: NOW)
    job(camera, JobStatus.RUNNING, heartbeat_ago=2 * STALLED_AFTER, started_ago=3 * STALLED_AFTER)
    assert task.step() is True
    assert not AnalysisJob.objects.filter(status=JobStatus.RUNNING).exists()

    later = job(camera, JobStatus.RUNNING, heartbeat_ago=2 * STALLED_AFTER, started_ago=3 * STALLED_AFTER)
    clock[0] = 59
    assert task.step() is False
    later.refresh_from_db()
    assert later.status == JobStatus.RUNNING
    clock[0] = 60
    assert task.step() is True
    later.refresh_from_db()
    assert later.status == JobStatus.FAILED
