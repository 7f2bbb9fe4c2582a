import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from cameras.fencing import Ticker
from cameras.models import Camera
from cameras.supervisor import Supervisor, start_worker_server
from core import heap

log = logging.getLogger("ainvr.workers")


class Command(BaseCommand):
    # The web process runs the system checks; here they cost a second of start-up while
    # cameras wait to be recorded.
    requires_system_checks = []
    help = (
        "Run the camera workers until SIGTERM or SIGINT: one capture process per enabled camera "
        "that this host holds the lease of (recording, live view, frames for AI), the detector and "
        "face recognition processes while a camera needs them, each restarted when it dies, plus "
        "retention. Cameras changed in the admin are picked up within seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--camera", action="append", dest="cameras", metavar="SLUG", help="Only these cameras.")

    def handle(self, *args, cameras=None, **options):
        if cameras:
            known = set(Camera.objects.enabled().filter(slug__in=cameras).values_list("slug", flat=True))
            unknown = sorted(set(cameras) - known)
            if unknown:
                raise CommandError(f"no enabled camera with the slug(s): {', '.join(unknown)}")

        # Handlers first: a SIGTERM right after start-up must still stop us cleanly.
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())

        # One live process per WORKER_HOST_ID on a machine: a second one waits as its standby
        # and takes over the moment the first dies (the kernel drops the lock with it).
        from django.conf import settings

        from cameras.hosts import HostLock

        lock = HostLock(settings.STATE_DIR, settings.WORKER_HOST_ID)
        if not lock.try_acquire():
            log.warning("runworkers: another runworkers of host %s runs here; standing by", settings.WORKER_HOST_ID)
            while not lock.try_acquire():
                if stop.wait(0.2):
                    log.info("runworkers: stopped")
                    return

        from core import metrics

        metrics.clean_multiprocess_dir()  # files of processes gone since the last run
        # The forkserver imports PyAV and the capture code while we start up.
        start_worker_server()
        from core.db import keep_connection
        from recordings.retention import RetentionTask

        # The supervisor writes every camera's status and segments: keep its connection
        # (checked before each use) instead of reconnecting for each write, which cost
        # more CPU than the writes themselves.
        keep_connection()

        from attendance.enrolment import StalledEnrolmentsTask
        from cameras.stages import StagePool, default_stages
        from detection.analysis.services import StalledJobsTask
        from detection.live_status import AiStateTask
        from detection.retention import EventRetentionTask
        from notifications.health import HealthCheckTask

        tasks = [RetentionTask(), EventRetentionTask(), StalledJobsTask(), StalledEnrolmentsTask()]
        tasks += [HealthCheckTask(), AiStateTask()]  # health alerts; the live tiles' AI label
        # Recordings are reconciled camera by camera, by the host that holds each (the
        # supervisor, once what the last holder wrote has settled): others write theirs.
        supervisor = Supervisor(lock_held=True, only_slugs=cameras, tasks=tasks, stages=StagePool(default_stages()))
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
            # loop's cyclic garbage every minute (it climbed ~10 MB/h otherwise: core.heap).
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
