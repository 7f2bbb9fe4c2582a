"""RQ entry point of the "analysis" queue (enqueued by services.enqueue_analysis_job)."""

from __future__ import annotations

from django.db import close_old_connections, connection


def run_analysis(job_id: int) -> None:
    from detection.analysis.services import run_analysis_job

    # A work horse may hold a connection left idle for hours, or broken: start afresh
    # (never inside an atomic block, where closing would break the transaction).
    if not connection.in_atomic_block:
        close_old_connections()
    run_analysis_job(job_id)
