"""RQ jobs of the `notifications` queue (run by `manage.py rqworker notifications`)."""

from __future__ import annotations

from rq import get_current_job

from notifications import delivery


def deliver(delivery_id: int) -> str:
    """One attempt at a Delivery; raising makes RQ retry it with the queued Retry policy."""
    job = get_current_job()
    return delivery.attempt(delivery_id, last_try=job is None or not job.retries_left)
