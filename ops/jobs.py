"""Background jobs (RQ) announce their start and end in the log and in the metrics."""

from __future__ import annotations

import logging
import time
from functools import wraps

from core import metrics
from core.logevents import log_event

log = logging.getLogger("ainvr.jobs")


def _current_job_id() -> str:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # outside a worker, or rq missing: the id is only informative
        job = None
    return job.id if job is not None else "-"


def instrumented_job(kind: str):
    """Decorate an RQ job function: `job.started` and `job.finished` log lines (with
    result ok/failed and seconds) and the `ainvr_job_seconds` metric."""

    def decorate(function):
        @wraps(function)
        def run(*args, **kwargs):
            job_id = _current_job_id()
            log_event(log, "job.started", kind=kind, job=job_id)
            started = time.monotonic()
            ok = False
            try:
                result = function(*args, **kwargs)
                ok = True
                return result
            finally:
                seconds = time.monotonic() - started
                result_name = "ok" if ok else "failed"
                level = logging.INFO if ok else logging.WARNING
                log_event(log, "job.finished", level=level, kind=kind, job=job_id, result=result_name,
                          seconds=round(seconds, 3))  # fmt: skip
                metrics.job_finished(kind, ok, seconds)

        return run

    return decorate
