"""The periodic task runworkers runs (its `tasks` list): one health check per interval."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from core.periodic import PeriodicTask
from core.redis_client import redis_client
from detection.status import stage_statuses
from notifications.health import evaluate, observe
from ops.selectors import disks

INTERVAL_S = 5.0


def read_stage_statuses() -> list:
    """The stage statuses the pools publish; none without Redis (nothing publishes them)."""
    from django.conf import settings

    return stage_statuses(redis_client(settings.REDIS_URL)) if settings.REDIS_URL else []


def read_disks() -> list:

    return disks()


class HealthCheckTask(PeriodicTask):
    """Looks for trouble every `interval_s` and notifies through the health rules. Sources
    and clocks are passed in, so tests drive it step by step."""

    logger = observe.log
    failure_message = "health check failed"

    def __init__(
        self,
        *,
        interval_s: float = INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
        read_stages: Callable[[], list] = read_stage_statuses,
        disk_rows: Callable[[], list] = read_disks,
    ):
        super().__init__(interval_s=interval_s, clock=clock)
        self.now = now
        self.read_stages = read_stages
        self.disk_rows = disk_rows
        self.last_deliveries: list[evaluate.Delivery] = []

    def run(self) -> None:
        now = self.now()
        troubles, looked = observe.observe(now, read_stages=self.read_stages, disk_rows=self.disk_rows)
        evaluate.record(troubles, looked, now)
        self.last_deliveries = evaluate.notify(now)
