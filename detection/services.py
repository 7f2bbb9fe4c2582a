"""Changes to detections and analysis jobs."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from detection.models import AnalysisJob, JobStatus

MAX_ANALYSIS_RANGE = timedelta(days=31)


class JobFinished(Exception):
    """The job has already ended; it cannot be cancelled."""


@transaction.atomic
def create_analysis_job(*, requested_by, camera, start, end, **options) -> AnalysisJob:
    """Store a queued analysis job after checking its range.

    Running it (the RQ job on the `analysis` queue) arrives with the detection pipeline."""
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    if end - start > MAX_ANALYSIS_RANGE:
        raise ValidationError({"end": f"Analyse at most {MAX_ANALYSIS_RANGE.days} days at a time."})
    if start > timezone.now():
        raise ValidationError({"start": "The start is in the future: there is nothing recorded yet."})
    job = AnalysisJob(requested_by=requested_by, camera=camera, start=start, end=end, **options)
    job.full_clean()
    job.save()
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
