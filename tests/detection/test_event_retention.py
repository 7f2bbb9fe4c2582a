"""Detected objects go when their camera's footage does: live events that ended more than
the camera's retention days ago are deleted with their snapshot JPEGs; ongoing events and
an analysis job's events stay. A snapshot leaves the disk whichever way its row goes (a
camera or a job deleted), and only once that delete commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from detection.models import AnalysisJob, JobStatus, ObjectEvent, Source
from detection.retention import EventRetentionTask, delete_expired_events

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def event(camera, *, ended_days_ago: float | None, started_days_ago: float | None = None, job=None) -> ObjectEvent:
    start = NOW - timedelta(days=started_days_ago if started_days_ago is not None else (ended_days_ago or 0) + 0.01)
    row = ObjectEvent.objects.create(
        camera=camera,
        label="person",
        confidence=0.9,
        box=[0.1, 0.1, 0.3, 0.6],
        start=start,
        end=None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago),
        source=Source.ANALYSIS if job else Source.LIVE,
        job=job,
    )
    row.snapshot.save(f"event-{row.pk}.jpg", ContentFile(b"\xff\xd8 a jpeg \xff\xd9"), save=True)
    return row


def snapshot_exists(row: ObjectEvent) -> bool:
    return row.snapshot.storage.exists(row.snapshot.name)


def make_job(camera) -> AnalysisJob:
    return AnalysisJob.objects.create(
        camera=camera, start=NOW - timedelta(days=40), end=NOW - timedelta(days=39), status=JobStatus.DONE
    )


def test_live_events_past_the_cameras_retention_go_with_their_snapshots(camera, django_capture_on_commit_callbacks):
    camera.retention_days = 7
    camera.save()
    keeper = Camera.objects.create(name="Vault", slug="vault", stream_url="rtsp://192.0.2.11/main", retention_days=30)
    expired = [event(camera, ended_days_ago=8), event(camera, ended_days_ago=100)]
    recent = event(camera, ended_days_ago=6.9)
    ongoing = event(camera, ended_days_ago=None, started_days_ago=30)  # still in view: never deleted
    analysed = event(camera, ended_days_ago=39, job=make_job(camera))  # part of its job's report
    kept_longer = event(keeper, ended_days_ago=8)

    with django_capture_on_commit_callbacks(execute=True):
        assert delete_expired_events(now=NOW) == 2

    assert set(ObjectEvent.objects.values_list("pk", flat=True)) == {
        recent.pk,
        ongoing.pk,
        analysed.pk,
        kept_longer.pk,
    }
    assert not any(snapshot_exists(row) for row in expired)
    assert all(snapshot_exists(row) for row in (recent, ongoing, analysed, kept_longer))


def test_a_backlog_is_deleted_in_batches(camera, django_capture_on_commit_callbacks):
    rows = [event(camera, ended_days_ago=10 + n) for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_expired_events(now=NOW, batch_size=2) == 5
    assert not ObjectEvent.objects.exists()
    assert not any(snapshot_exists(row) for row in rows)


def test_deleting_a_camera_or_a_job_takes_their_snapshots_off_the_disk(camera, django_capture_on_commit_callbacks):
    job = make_job(camera)
    of_job = event(camera, ended_days_ago=39, job=job)
    live = event(camera, ended_days_ago=1)

    with django_capture_on_commit_callbacks(execute=True):
        job.delete()
    assert not snapshot_exists(of_job) and snapshot_exists(live)

    with django_capture_on_commit_callbacks(execute=True):
        camera.delete()
    assert not snapshot_exists(live)


def test_a_delete_that_is_rolled_back_keeps_the_snapshot(camera, django_capture_on_commit_callbacks):
    row = event(camera, ended_days_ago=20)

    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Undo), transaction.atomic():
        ObjectEvent.objects.filter(pk=row.pk).delete()
        raise Undo

    assert ObjectEvent.objects.filter(pk=row.pk).exists()
    assert snapshot_exists(row)


def test_the_task_runs_at_once_then_every_interval(camera, django_capture_on_commit_callbacks):
    clock = [0.0]
    task = EventRetentionTask(interval_s=600, clock=lambda: clock[0], now=lambda: NOW)
    event(camera, ended_days_ago=30)

    with django_capture_on_commit_callbacks(execute=True):
        assert task.step() is True
        assert task.last_deleted == 1
        event(camera, ended_days_ago=30)
        clock[0] = 599
        assert task.step() is False
        assert ObjectEvent.objects.count() == 1
        clock[0] = 600
        assert task.step() is True
    assert task.last_deleted == 1 and not ObjectEvent.objects.exists()
