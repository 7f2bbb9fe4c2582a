"""Bring your own detector: manage.py import_model yolo11n.pt (or a .onnx)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detection.backends import DetectorError
from detection.model_files import import_model


class Command(BaseCommand):
    help = (
        "Check a detection model (ONNX, or an ultralytics .pt converted to ONNX when the ultralytics extra is "
        "installed) and store it in MODELS_DIR with its checksum, ready for DETECTOR_MODEL."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the model file (.onnx or .pt)")
        parser.add_argument("--name", default="", help="file name in MODELS_DIR (default: the file's, as .onnx)")
        parser.add_argument("--imgsz", type=int, default=640, help=".pt only: the ONNX input size (default 640)")
        parser.add_argument("--replace", action="store_true", help="replace a model of that name")

    def handle(self, *args, file, name, imgsz, replace, **options):
        if not 128 <= imgsz <= 1280 or imgsz % 32:
            raise CommandError("--imgsz must be a multiple of 32 between 128 and 1280")
        try:
            model = import_model(file, Path(settings.MODELS_DIR), name=name, imgsz=imgsz, replace=replace)
        except DetectorError as e:
            raise CommandError(str(e)) from None
        width, height = model.input_size
        how = "converted to ONNX and stored" if model.converted else "stored"
        self.stdout.write(
            f"{file.name}: {how} as {model.path} ({model.classes} classes, input {width}x{height}, "
            f"sha256 {model.sha256[:16]}...)\n"
            f"Use it: DETECTOR_MODEL={model.path.name} in .env, then restart the workers.\n"
            f"Calibrate its thresholds: python -m bench.accuracy --model {model.path.name} --calibrate --write"
        )
