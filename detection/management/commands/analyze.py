import sys
from argparse import BooleanOptionalAction
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cameras.models import Camera
from core.labels import validate_labels
from detection.analysis.runner import Progress
from detection.backends import DetectorError
from detection.models import AnalysisJob, JobStatus
from detection.selectors import camera_threshold


def moment(text: str, name: str):
    parsed = parse_datetime(text.strip())
    if parsed is None:
        raise CommandError(f"--{name} {text!r} is not a date and time such as '2025-05-12 10:00:00'")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def first_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        field, messages = next(iter(error.message_dict.items()))
        return messages[0] if field == "__all__" else f"{field}: {messages[0]}"
    return error.messages[0]


class Command(BaseCommand):
    help = (
        "Detect objects in a camera's recordings between two moments, here and now (the API queues the same work "
        "for the RQ worker). Saves one event per object, a report and, unless --no-annotate, an annotated MP4."
    )

    def add_arguments(self, parser):
        parser.add_argument("--camera", required=True, help="Camera slug.")
        parser.add_argument("--start", required=True, help="e.g. '2025-05-12 10:00:00' (server time zone) or ISO 8601.")
        parser.add_argument("--end", required=True)
        parser.add_argument("--classes", help="Comma-separated COCO names, e.g. person,car (default: the camera's).")
        parser.add_argument("--confidence", type=float, help="0..1 (default: the camera's event threshold).")
        parser.add_argument("--sample-fps", "--fps", dest="sample_fps", type=float, help="Frames analysed per second.")
        parser.add_argument("--annotate", action=BooleanOptionalAction, default=True, help="Make an annotated MP4.")
        parser.add_argument("--backend", help="Detector backend (default: DETECTOR_BACKEND).")
        parser.add_argument("--model", help="Model file in MODELS_DIR or an absolute path (default: DETECTOR_MODEL).")
        parser.add_argument("--device", help="cpu or cuda:N (default: DETECTOR_DEVICE).")

    def handle(self, *args, camera, start, end, classes, confidence, sample_fps, annotate, **options):
        from detection.analysis import services

        cam = Camera.objects.filter(slug=camera).first()
        if cam is None:
            raise CommandError(
                f"no camera {camera!r}; cameras: {', '.join(Camera.objects.values_list('slug', flat=True)) or 'none'}"
            )
        start_at, end_at = moment(start, "start"), moment(end, "end")
        if end_at <= start_at:
            raise CommandError("--end must be after --start")
        try:
            labels = (
                validate_labels([c.strip() for c in classes.split(",") if c.strip()]) if classes else cam.ai_classes
            )
        except ValueError as e:
            raise CommandError(str(e)) from None
        confidence = camera_threshold(cam) if confidence is None else confidence
        if not 0.0 <= confidence <= 1.0:
            raise CommandError("--confidence must be between 0 and 1")
        job_options = {"classes": labels, "confidence": confidence, "annotate": annotate}
        if sample_fps is not None:
            job_options["sample_fps"] = sample_fps
        try:
            detector = services.detector_for(
                classes=labels, confidence=confidence, backend=options["backend"], model=options["model"],
                device=options["device"],
            )  # fmt: skip
            detector.load()  # before the job exists: a missing model leaves no failed job behind
            job = services.start_analysis_here(camera=cam, start=start_at, end=end_at, **job_options)
        except DetectorError as e:
            raise CommandError(str(e)) from None
        except ValidationError as e:
            raise CommandError(first_message(e)) from None
        self.stdout.write(
            f"Analysis #{job.pk}: {cam.slug} from {timezone.localtime(start_at):%Y-%m-%d %H:%M:%S} "
            f"to {timezone.localtime(end_at):%Y-%m-%d %H:%M:%S %Z}, "
            f"{detector.describe()}"
        )
        try:
            job = services.run_claimed_job(job, detector=detector, on_progress=self.show_progress)
        except Exception as e:
            self.end_progress()
            job.refresh_from_db()
            raise CommandError(f"analysis #{job.pk} failed: {job.error or e}") from None
        self.end_progress()
        if job.status == JobStatus.FAILED:
            raise CommandError(f"analysis #{job.pk} failed: {job.error}")
        self.summarise(job)
        if job.status != JobStatus.DONE:
            raise CommandError(f"analysis #{job.pk} was {job.get_status_display().lower()}; what it found is kept")

    def show_progress(self, progress: Progress) -> None:
        width = 30
        filled = int(width * progress.fraction)
        eta = "" if progress.eta is None else f" ETA {int(progress.eta) // 60}:{int(progress.eta) % 60:02d}"
        bar = "#" * filled + "." * (width - filled)
        line = f"[{bar}] {100 * progress.fraction:5.1f}% {progress.frames}/~{progress.expected} frames{eta}"
        if sys.stdout.isatty():
            self.stdout.write("\r" + line, ending="")
            self._open_line = True
        else:
            self.stdout.write(line)

    def end_progress(self) -> None:
        if getattr(self, "_open_line", False):
            self.stdout.write("")
            self._open_line = False

    def summarise(self, job: AnalysisJob) -> None:
        from django.conf import settings

        report = job.report
        counts = ", ".join(f"{label} {n}" for label, n in report.get("counts", {}).items()) or "no objects"
        self.stdout.write(
            f"{job.get_status_display()}: {counts} in {report.get('frames_analysed', 0)} frames, "
            f"{report.get('footage_seconds', 0)} s of footage in {report.get('duration_seconds', 0)} s"
        )
        media = Path(settings.MEDIA_ROOT)
        if report.get("report_file"):
            self.stdout.write(f"Report: {media / report['report_file']}")
        if job.annotated_video:
            self.stdout.write(f"Video: {media / job.annotated_video}")
