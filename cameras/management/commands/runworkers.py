import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from cameras.supervisor import Supervisor, start_worker_server

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

        from ops import metrics

        metrics.clean_multiprocess_dir()  # files of processes gone since the last run
        # The forkserver imports PyAV and the capture code while we reconcile.
        start_worker_server()
        from ainvr.db import keep_connection
        from recordings.reconcile import reconcile_recordings
        from recordings.retention import RetentionTask

        # The supervisor writes every camera's status and segments: keep its connection
        # (checked before each use) instead of reconnecting for each write, which cost
        # more CPU than the writes themselves.
        keep_connection()

        try:
            reconcile_recordings(cameras=Camera.objects.filter(slug__in=cameras) if cameras else None)
        except Exception:  # a bad file must not keep the cameras from recording
            log.exception("runworkers: reconciling recordings failed")
        from cameras.stages import StagePool, default_stages
        from detection.analysis.services import StalledJobsTask
        from detection.live_status import AiStateTask
        from detection.retention import EventRetentionTask
        from notifications.health import HealthCheckTask

        tasks = [RetentionTask(), EventRetentionTask(), StalledJobsTask()]
        tasks += [HealthCheckTask(), AiStateTask()]  # health alerts; the live tiles' AI label
        supervisor = Supervisor(only_slugs=cameras, tasks=tasks, stages=StagePool(default_stages()))
        supervisor.refresh()
        names = ", ".join(slot.spec.name for slot in supervisor.slots.values()) or "none"
        log.info("runworkers: host %s, cameras to supervise: %s", supervisor.host, names)
        try:
            while not stop.is_set():
                if not supervisor.step():
                    stop.wait(0.2)
        finally:
            log.info("runworkers: stopping")
            supervisor.stop()
        log.info("runworkers: stopped")
