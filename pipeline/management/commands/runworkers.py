import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from cameras.selectors import unknown_enabled_slugs


class Command(BaseCommand):
    # The web process runs the system checks; here they would delay start-up while cameras
    # wait to be recorded.
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
        unknown = unknown_enabled_slugs(cameras or [])
        if unknown:
            raise CommandError(f"no enabled camera with the slug(s): {', '.join(unknown)}")
        # Handlers first: a SIGTERM right after start-up must still stop us cleanly.
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        # Imported once the handlers are in: loading the whole pipeline takes a second.
        from pipeline.runner import run_workers

        run_workers(stop, only_slugs=cameras)
