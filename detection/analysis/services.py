"""Running analysis jobs: the checks before one is created, enqueueing it on the
"analysis" RQ queue once its row is committed, claiming and running it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.periodic import PeriodicTask
from detection.analysis.footage import SegmentFile
from detection.analysis.runner import AnalysisRun, Progress
from detection.models import AnalysisJob, JobStatus
from detection.selectors import camera_threshold
from recordings.models import Segment

if TYPE_CHECKING:
    from accounts.models import User
    from cameras.models import Camera
    from detection.backends.base import Detector

log = logging.getLogger("detection.analysis")

QUEUE = "analysis"
JOB_FUNCTION = "detection.analysis.jobs.run_analysis"
# Called by RQ when the job fails, including when a worker was killed in the middle of it
# (another worker's registry cleanup finds the job abandoned and calls this).
FAILURE_CALLBACK = "detection.analysis.jobs.analysis_failed"

MAX_ANALYSIS_RANGE = timedelta(days=31)


class JobFinished(Exception):
    """The job has already ended; it cannot be cancelled."""


@transaction.atomic
def create_analysis_job(
    *, requested_by: User | None, camera: Camera, start: datetime, end: datetime, **options: Any
) -> AnalysisJob:
    """Store a queued analysis job after checking its range.

    The RQ job on the `analysis` queue runs it (detection.analysis.jobs); a range with no
    recordings is refused here."""
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    if end - start > MAX_ANALYSIS_RANGE:
        raise ValidationError({"end": f"Analyse at most {MAX_ANALYSIS_RANGE.days} days at a time."})
    if start > timezone.now():
        raise ValidationError({"start": "The start is in the future: there is nothing recorded yet."})
    check_recordings_exist(camera, start, end)
    if options.get("confidence") is None:
        options["confidence"] = camera_threshold(camera)  # what the camera's live events count
    job = AnalysisJob(requested_by=requested_by, camera=camera, start=start, end=end, **options)
    job.full_clean()
    job.save()
    enqueue_analysis_job(job)  # on the "analysis" queue once this transaction commits
    return job


def cancel_analysis_job(job: AnalysisJob) -> AnalysisJob:
    """Cancel a queued or running job. A running job sees the status change and stops at
    its next step. Claimed with a conditional UPDATE, so a job that finishes at the same
    moment is never marked cancelled."""
    updated = AnalysisJob.objects.filter(pk=job.pk, status__in=AnalysisJob.ACTIVE).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    if updated != 1:
        raise JobFinished(f"The job has already ended ({job.get_status_display().lower()}).")
    return job


def recorded_segments(camera: Camera, start: datetime, end: datetime) -> list[SegmentFile]:
    """The camera's recordings with footage between start and end, oldest first."""

    root = Path(settings.RECORDINGS_DIR)
    rows = Segment.objects.filter(camera=camera).overlapping(start, end).order_by("start")
    return [SegmentFile(id=s.pk, path=root / s.path, start=s.start, end=s.end) for s in rows]


def check_recordings_exist(camera: Camera, start: datetime, end: datetime) -> None:
    """ValidationError (on `start`) when the camera recorded nothing in the range."""

    if not Segment.objects.filter(camera=camera).overlapping(start, end).exists():
        first, last = timezone.localtime(start), timezone.localtime(end)
        raise ValidationError(
            {"start": f"{camera.name} has no recordings between {first:%Y-%m-%d %H:%M:%S} and {last:%H:%M:%S %Z}."}
        )


def enqueue_analysis_job(job: AnalysisJob) -> None:
    """Put the job on the "analysis" queue once the current transaction commits (a worker
    must never look for a row that is not there yet). Call it from
    detection.services.create_analysis_job right after the row is saved. A job that is no
    longer queued by then (the command runs it itself) is not enqueued."""
    job_id = job.pk
    transaction.on_commit(lambda: _enqueue(job_id))


def _enqueue(job_id: int) -> None:
    import django_rq
    from rq import Callback

    if not AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).exists():
        return
    try:
        # "auto": enqueue now; this already runs after the commit (django-rq would otherwise
        # defer it again when called inside a later transaction).
        queue = django_rq.get_queue(QUEUE, commit_mode="auto")
        rq_job = queue.enqueue(JOB_FUNCTION, job_id, job_id=f"analysis-{job_id}", on_failure=Callback(FAILURE_CALLBACK))
    except Exception as e:  # Redis down: say so on the job instead of leaving it queued forever
        log.exception("analysis job %s could not be enqueued", job_id)
        AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, error=f"The job queue is unreachable: {e}", finished_at=timezone.now()
        )
        return
    AnalysisJob.objects.filter(pk=job_id).update(rq_job_id=rq_job.id)


def fail_unfinished_job(job_id: int, reason: str) -> bool:
    """Mark a job that is still queued or running as failed (its worker is gone). False when
    it had already ended: what it ended with stays."""
    updated = AnalysisJob.objects.filter(pk=job_id, status__in=AnalysisJob.ACTIVE).update(
        status=JobStatus.FAILED, error=reason, finished_at=timezone.now()
    )
    return updated == 1


# A running job saves its progress every second; one silent this long has lost its process
# (killed, its machine gone). Generous: loading a model happens between two saves.
STALLED_AFTER = timedelta(minutes=10)
STALLED = "The process running this analysis stopped reporting progress (killed or crashed): start it again."


def fail_stalled_jobs(*, now: datetime, stalled_after: timedelta = STALLED_AFTER) -> int:
    """Mark running jobs whose process has been silent for `stalled_after` as failed, at
    once instead of when RQ finds them abandoned after the queue's timeout (hours), or never
    for `manage.py analyze` killed in a terminal. Returns how many."""
    stalled = AnalysisJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=now - stalled_after) | Q(heartbeat_at__isnull=True, started_at__lt=now - stalled_after)
    )
    count = stalled.update(status=JobStatus.FAILED, error=STALLED, finished_at=now)
    if count:
        log.warning("analysis: %d job(s) marked failed: no progress for %s", count, stalled_after)
    return count


class StalledJobsTask(PeriodicTask):
    """Runs `fail_stalled_jobs()` every `interval_s` seconds from the worker supervisor."""

    logger = log
    failure_message = "analysis: checking for stalled jobs failed"

    def __init__(
        self,
        *,
        interval_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ):
        super().__init__(interval_s=interval_s, clock=clock)
        self.now = now

    def run(self) -> None:
        fail_stalled_jobs(now=self.now())


def claim_job(job_id: int) -> AnalysisJob | None:
    """Queued -> running, with a conditional UPDATE: None when someone else has it or it
    was cancelled before it started."""
    now = timezone.now()
    updated = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, progress=0.0, error=""
    )
    if updated != 1:
        return None
    return AnalysisJob.objects.select_related("camera").get(pk=job_id)


# The bundled CenterNet's input side in offline analysis unless a size is set: a call costs
# much less than at its own 512, for a few of the weakest detections (bench/README.md,
# "Fourth session: any input size, ...").
BUNDLED_MODEL_ANALYSIS_SIZE = 384


def analysis_input_size(backend: str, model: str) -> int:
    """The detector input side analysis asks for (0: the model's own): ANALYSIS_INPUT_SIZE, else
    DETECTOR_INPUT_SIZE, else BUNDLED_MODEL_ANALYSIS_SIZE for the bundled model."""
    size = getattr(settings, "ANALYSIS_INPUT_SIZE", 0) or getattr(settings, "DETECTOR_INPUT_SIZE", 0)
    if not size and backend == "onnx" and not model:
        return BUNDLED_MODEL_ANALYSIS_SIZE
    return size


def detector_for(
    *,
    classes: Iterable[str],
    confidence: float,
    backend: str | None = None,
    model: str | None = None,
    device: str | None = None,
) -> Detector:
    """The configured detector (DETECTOR_* settings), or the one asked for, keeping only
    `classes` at `confidence` or above; not loaded yet. Raises DetectorError."""
    from detection.backends import create_detector, input_size_options

    name = backend or cast(str, getattr(settings, "DETECTOR_BACKEND", "onnx"))
    options: dict[str, Any] = {
        "device": device or getattr(settings, "DETECTOR_DEVICE", "cpu"),
        "confidence": confidence,
        "classes": list(classes),
        "max_batch": getattr(settings, "DETECTOR_BATCH", 4),
    }
    chosen = model or cast(str, getattr(settings, "DETECTOR_MODEL", ""))
    if chosen:
        options["model"] = chosen
    options.update(input_size_options(name, analysis_input_size(name, chosen)))
    if name == "onnx":
        options["tensorrt"] = getattr(settings, "DETECTOR_TENSORRT", False)
        options["threads"] = getattr(settings, "DETECTOR_THREADS", 0)
        options["precision"] = getattr(settings, "DETECTOR_PRECISION", "int8")
    return create_detector(name, **options)


def run_claimed_job(
    job: AnalysisJob,
    *,
    detector: Detector | None = None,
    backend: str | None = None,
    model: str | None = None,
    device: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    **run_options: Any,
) -> AnalysisJob:
    """Run a job that is already `running` (see claim_job) to its end. Any error marks it
    failed with a one-line reason; it is also raised again for the caller to report."""
    from detection.analysis.gate import ChangeGate
    from detection.motion import FAR_GATE

    run = None
    try:
        segments = recorded_segments(job.camera, job.start, job.end)
        if not segments:
            raise ValidationError(f"{job.camera.name} has no recordings in this range.")
        if detector is None:
            detector = detector_for(
                classes=job.classes, confidence=job.confidence, backend=backend, model=model, device=device
            )
        detector.load()
        run = AnalysisRun(
            job,
            detector=detector,
            segments=segments,
            batch=getattr(settings, "DETECTOR_BATCH", 4),
            # Crops are for far objects, which the default gate does not see change (as live).
            gate=ChangeGate(**FAR_GATE) if settings.DETECTOR_MOTION_CROP else ChangeGate(),
            crop_to_motion=settings.DETECTOR_MOTION_CROP,
            on_progress=on_progress,
            **run_options,
        )
        return run.run()
    except (KeyboardInterrupt, SystemExit):
        if run is not None:
            run.abandon()
        AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.CANCELLED, error="Interrupted.", finished_at=timezone.now()
        )
        raise
    except Exception as e:
        if run is not None:
            run.abandon()
        message = e.messages[0] if isinstance(e, ValidationError) else f"{e.__class__.__name__}: {e}"
        AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=message.splitlines()[0] if message else "failed", finished_at=timezone.now()
        )
        log.warning("analysis job %s failed: %s", job.pk, message)
        raise


def run_analysis_job(job_id: int, **options: Any) -> AnalysisJob | None:
    """The RQ job's work: claim the job and run it. None when it was not ours to run."""
    job = claim_job(job_id)
    if job is None:
        log.info("analysis job %s is not queued any more: nothing to do", job_id)
        return None
    return run_claimed_job(job, **options)


@transaction.atomic
def start_analysis_here(*, camera: Camera, start: datetime, end: datetime, **options: Any) -> AnalysisJob | None:
    """Create a job and claim it for this process (`manage.py analyze` runs it itself):
    checked as the API checks it, plus that there are recordings; it is never enqueued,
    since it is no longer queued when the transaction commits."""
    job = create_analysis_job(requested_by=None, camera=camera, start=start, end=end, **options)
    check_recordings_exist(camera, start, end)  # raising rolls the new row back
    # The row is ours until this transaction commits: nobody else can have claimed it.
    return claim_job(job.pk)
