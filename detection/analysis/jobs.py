"""RQ entry points of the "analysis" queue (enqueued by services.enqueue_analysis_job)."""

from __future__ import annotations

from django.db import close_old_connections, connection

from detection.analysis.services import fail_unfinished_job, run_analysis_job

WORKER_LOST = "The worker running this analysis stopped (killed or crashed) before it finished: start it again."


def run_analysis(job_id: int) -> None:

    _fresh_connection()
    run_analysis_job(job_id)


def analysis_failed(job, _redis, _exc_type, _exc_value, _traceback) -> None:
    """RQ's failure callback. A job that raised has already said why on its row; one whose
    worker was killed would otherwise stay "running" for ever. RQ finds it abandoned when a
    worker cleans its registries (at start, then every 10 minutes) after the job's timeout
    has passed (RQ 3 scores a started job by it), and calls this."""

    _fresh_connection()
    fail_unfinished_job(job.args[0], WORKER_LOST)


def _fresh_connection() -> None:
    # A worker may hold a connection left idle for hours, or broken: start afresh (never
    # inside an atomic block, where closing would break the transaction).
    if not connection.in_atomic_block:
        close_old_connections()
