"""`manage.py analyze` and the RQ job: the same analysis, run here or by a worker."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rq import SimpleWorker
from rq.registry import StartedJobRegistry

from detection.analysis.jobs import WORKER_LOST, analysis_failed
from detection.analysis.services import QUEUE, claim_job, create_analysis_job, enqueue_analysis_job
from detection.models import AnalysisJob, JobStatus, ObjectEvent
from tests.detection.tiny_yolo import *  # noqa: F403  (fixtures)
from tests.detection.tiny_yolo import T0

pytestmark = pytest.mark.django_db
START = "2026-05-12T10:00:00Z"  # T0
END = "2026-05-12T10:00:08+00:00"


def analyze(*args: str, model: str | None = None) -> str:
    out = StringIO()
    call_command("analyze", *args, *(["--backend", "ultralytics", "--model", model] if model else []), stdout=out)
    return out.getvalue()


def test_it_analyses_recordings_and_says_where_the_report_and_video_are(camera, recorded_scene, tiny_weights, settings):
    out = analyze(
        "--camera", "gate", "--start", START, "--end", END, "--classes", "person,car", "--confidence", "0.5",
        "--sample-fps", "5", model=str(tiny_weights),
    )  # fmt: skip

    job = AnalysisJob.objects.get()
    assert job.status == JobStatus.DONE and job.requested_by is None
    assert (job.start, job.end, job.classes, job.sample_fps) == (T0, T0 + timedelta(seconds=8), ["person", "car"], 5)
    assert sorted(ObjectEvent.objects.filter(job=job).values_list("label", flat=True)) == ["car", "person"]
    media = Path(settings.MEDIA_ROOT)
    assert f"Report: {media / f'analysis/{job.pk}/report.json'}" in out
    assert f"Video: {media / job.annotated_video}" in out
    assert "car 1, person 1 in 40 frames" in out
    assert "100.0%" in out  # the progress line reached the end
    assert (media / job.annotated_video).stat().st_size > 0


def test_no_annotate_makes_no_video_and_times_without_offset_are_local(camera, recorded_scene, tiny_weights):
    local = timezone.localtime(T0)  # the tests run in Europe/Paris: 12:00 there is T0
    start, end = f"{local:%Y-%m-%d %H:%M:%S}", f"{local + timedelta(seconds=8):%Y-%m-%d %H:%M:%S}"
    out = analyze("--camera", "gate", "--start", start, "--end", end, "--no-annotate", model=str(tiny_weights))

    job = AnalysisJob.objects.get()
    assert (job.start, job.end) == (T0, T0 + timedelta(seconds=8))
    assert job.status == JobStatus.DONE and not job.annotate and job.annotated_video == ""
    assert "Video:" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "nope"], "no camera 'nope'; cameras: gate"),
        (["--start", "yesterday"], "--start 'yesterday' is not a date and time"),
        (["--end", "2026-05-12T09:00:00Z"], "--end must be after --start"),
        (["--classes", "person,unicorn"], "Unknown class(es): unicorn"),
        (["--confidence", "1.5"], "--confidence must be between 0 and 1"),
        (["--sample-fps", "100"], "sample_fps: Ensure this value is less than or equal to 30.0."),
        (
            ["--start", "2026-05-12 14:00:00", "--end", "2026-05-12 15:00:00"],
            "Gate has no recordings between 2026-05-12 14:00:00 and 15:00:00 CEST.",
        ),
        (["--start", "2099-01-01 00:00:00", "--end", "2099-01-01 01:00:00"], "start: The start is in the future"),
        (["--backend", "nope"], "unknown detector backend 'nope'"),
        (["--backend", "ultralytics", "--model", "/nowhere/yolo11n.pt"], "model file /nowhere/yolo11n.pt not found"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_job(camera, recorded_scene, tiny_weights, args, message):
    given = dict(zip(args[::2], args[1::2], strict=True))
    base = {
        "--camera": "gate",
        "--start": START,
        "--end": END,
        "--backend": "ultralytics",
        "--model": str(tiny_weights),
    }
    argv = [item for key, value in {**base, **given}.items() for item in (key, value)]

    with pytest.raises(CommandError) as e:
        call_command("analyze", *argv, stdout=StringIO())

    assert message in str(e.value)
    assert "\n" not in str(e.value)
    assert not AnalysisJob.objects.exists()


def test_a_job_created_for_the_queue_is_enqueued_after_commit_and_run_by_a_worker(
    camera, recorded_scene, tiny_weights, settings, django_capture_on_commit_callbacks
):
    settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL = "ultralytics", str(tiny_weights)
    queue = django_rq.get_queue(QUEUE)
    queue.empty()
    with django_capture_on_commit_callbacks() as callbacks:
        job = create_analysis_job(
            requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8), classes=["person", "car"],
            sample_fps=2, annotate=False,
        )  # fmt: skip
        assert queue.count == 0  # nothing before the commit

    for callback in callbacks:
        callback()
    try:
        assert queue.job_ids == [f"analysis-{job.pk}"]
        job.refresh_from_db()
        assert job.rq_job_id == f"analysis-{job.pk}"

        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        queue.empty()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.report["counts"] == {"car": 1, "person": 1}
    assert job.report["frames_analysed"] == 16


def test_a_job_no_longer_queued_at_commit_is_not_enqueued(camera, recorded_scene, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue(QUEUE)
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        job = create_analysis_job(requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8))
        enqueue_analysis_job(job)
        AnalysisJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)

    assert queue.count == 0


def started_then_killed(queue, job_id: str):
    """What a worker does to a job before it runs it (dequeue, register the execution, mark it
    started); then nothing more, as when the worker is killed."""
    rq_job = queue.fetch_job(job_id)
    worker = SimpleWorker([queue], connection=queue.connection)
    queue.remove(rq_job)
    worker.prepare_execution(rq_job)
    worker.prepare_job_execution(rq_job)
    return rq_job


def test_a_job_whose_worker_was_killed_is_failed_when_rq_finds_it_abandoned(
    camera, recorded_scene, django_capture_on_commit_callbacks
):
    queue = django_rq.get_queue(QUEUE)
    queue.empty()
    queue.connection.delete(StartedJobRegistry(queue=queue).key)  # what other runs left there
    with django_capture_on_commit_callbacks(execute=True):
        job = create_analysis_job(requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8))
    claim_job(job.pk)  # the work horse took it and said so ...
    try:
        started_then_killed(queue, job.rq_job_id or f"analysis-{job.pk}")
        # ... and died. Another worker cleans the registries once the execution has lapsed:
        # with RQ 3 that is the job's timeout (the analysis queue's 6 h) after it started.
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 6 * 3600 + 120)
    finally:
        queue.empty()
        queue.connection.delete(StartedJobRegistry(queue=queue).key)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == WORKER_LOST and job.finished_at is not None


def test_a_failure_callback_leaves_a_job_that_had_ended_as_it_ended(camera, recorded_scene):
    job = create_analysis_job(requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8))
    AnalysisJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED, error="Cancelled by bob.")

    analysis_failed(SimpleNamespace(args=(job.pk,)), None, RuntimeError, RuntimeError("late"), None)

    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.CANCELLED, "Cancelled by bob.")
