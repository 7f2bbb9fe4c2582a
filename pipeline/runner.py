"""One `runworkers` host from start to stop: the host lock, the supervisor, its lease threads
and the periodic tasks of every app, until `stop` is set."""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from attendance.enrolment import StalledEnrolmentsTask
from core import heap, metrics
from core.db import keep_connection
from core.periodic import PeriodicTask
from detection.analysis.services import StalledJobsTask
from detection.live_status import AiStateTask
from detection.retention import EventRetentionTask
from notifications.health import HealthCheckTask
from pipeline.cluster.fencing import Ticker
from pipeline.cluster.hosts import HostLock
from pipeline.forkserver import start_worker_server
from pipeline.stage_pool import StagePool, default_stages
from pipeline.supervisor import Supervisor
from recordings.retention import RetentionTask

log = logging.getLogger("ainvr.workers")


def periodic_tasks() -> list[PeriodicTask]:
    """What runs beside the cameras: retention, stalled jobs and enrolments, health alerts, the
    live tiles' AI label. Recordings are reconciled camera by camera by the supervisor, once what
    the last holder wrote has settled."""
    return [
        RetentionTask(),
        EventRetentionTask(),
        StalledJobsTask(),
        StalledEnrolmentsTask(),
        HealthCheckTask(),
        AiStateTask(),
    ]


def run_workers(stop: threading.Event, only_slugs: list[str] | None = None) -> None:
    """Supervise this host's cameras until `stop` is set."""
    # One live process per WORKER_HOST_ID on a machine: a second one waits as its standby
    # and takes over the moment the first dies (the kernel drops the lock with it).
    lock = HostLock(settings.STATE_DIR, settings.WORKER_HOST_ID)
    if not lock.try_acquire():
        log.warning("runworkers: another runworkers of host %s runs here; standing by", settings.WORKER_HOST_ID)
        while not lock.try_acquire():
            if stop.wait(0.2):
                log.info("runworkers: stopped")
                return

    metrics.clean_multiprocess_dir()  # files of processes gone since the last run
    # The forkserver imports PyAV and the capture code while we start up.
    start_worker_server()
    # The supervisor writes every camera's status and segments: keep its connection
    # (checked before each use) instead of reconnecting for each write, which cost
    # more CPU than the writes themselves.
    keep_connection()

    supervisor = Supervisor(
        lock_held=True, only_slugs=only_slugs, tasks=periodic_tasks(), stages=StagePool(default_stages())
    )
    supervisor.refresh()
    names = ", ".join(slot.spec.name for slot in supervisor.slots.values()) or "none"
    log.info("runworkers: host %s, cameras to supervise: %s", supervisor.host, names)
    # Threads of their own, so neither a long round of the loop nor a stalled database call
    # can delay them: one renews the leases, one stops the capture processes in time
    # when they could not be renewed (fencing).
    keeper = Ticker(supervisor.renew, every_s=supervisor.refresh_s, name="lease-keeper").start()
    watchdog = Ticker(supervisor.guard_fence).start()
    try:
        # Start-up is done: keep its heap out of the collector's way, then collect the
        # loop's cyclic garbage every minute.
        heap.settle()
        heap_keeper = heap.HeapKeeper()
        while not stop.is_set():
            worked = supervisor.step()
            heap_keeper.step()
            if not worked:
                stop.wait(0.2)
    finally:
        log.info("runworkers: stopping")
        keeper.stop()
        watchdog.stop()
        supervisor.stop()
        lock.release()
    log.info("runworkers: stopped")
