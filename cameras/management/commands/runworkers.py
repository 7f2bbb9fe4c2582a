import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera

log = logging.getLogger("ainvr.workers")


class Command(BaseCommand):
    help = (
        "Run the camera worker pool until SIGTERM or SIGINT. The capture, recording and "
        "detection stages arrive with the video pipeline; until then this only reports "
        "the cameras it is to supervise and waits, so the run command can manage it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--camera", action="append", dest="cameras", metavar="SLUG", help="Only these cameras.")

    def handle(self, *args, cameras=None, **options):
        selected = Camera.objects.enabled()
        if cameras:
            unknown = sorted(set(cameras) - set(selected.filter(slug__in=cameras).values_list("slug", flat=True)))
            if unknown:
                raise CommandError(f"no enabled camera with the slug(s): {', '.join(unknown)}")
            selected = selected.filter(slug__in=cameras)
        # Handlers first: the line below tells the run command we are up, and a SIGTERM sent
        # right after it must stop us cleanly, not kill us.
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        names = ", ".join(selected.values_list("name", flat=True)) or "none"
        log.info("runworkers: cameras to supervise: %s (video pipeline not installed yet)", names)
        stop.wait()
        log.info("runworkers: stopped")
