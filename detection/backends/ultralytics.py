"""The `ultralytics` backend: any ultralytics model file (.pt, .onnx, .engine), CPU or CUDA.

    detector = create_detector("ultralytics", model="yolov8n.pt", device="cuda:0")

`model` is a file name in settings.MODELS_DIR or an absolute path. Nothing is ever
downloaded: ultralytics' offline switches are set before it is first imported, and a
missing file is a DetectorError saying where to put one. Half precision is used on a GPU
only (CPUs run fp16 slower, or not at all). A batch of frames is one predict call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from detection.backends.base import Detection, Detector, DetectorError, detectors, select_device

logger = logging.getLogger("detection.backends")

SUFFIXES = (".pt", ".onnx", ".engine")
# Tasks whose results carry axis-aligned boxes.
BOX_TASKS = ("detect", "segment", "pose")
HOW_TO_GET = (
    "put yolov8n.pt or yolo11n.pt there (download it on a machine with internet from "
    "https://github.com/ultralytics/assets/releases, or `pip install ultralytics && yolo predict model=yolo11n.pt` "
    "there and copy the file)"
)


def models_dir() -> Path | None:
    try:
        from django.conf import settings

        return Path(settings.MODELS_DIR)
    except Exception:  # used outside Django (scripts, bench): absolute paths only
        return None


def offline_config_dir() -> Path:
    """ultralytics writes a settings file here; inside DATA_DIR, never the home folder."""
    try:
        from django.conf import settings

        return Path(settings.DATA_DIR) / "ultralytics"
    except Exception:
        import tempfile

        return Path(tempfile.gettempdir()) / "ainvr-ultralytics"


def prepare_offline_environment() -> None:
    """Set ultralytics' offline switches. They are read when ultralytics is imported, so
    this runs before the first import; a config dir the user chose is kept."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    if not os.environ.get("YOLO_CONFIG_DIR"):
        config = offline_config_dir()
        try:
            config.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # ultralytics falls back to a temporary folder with a warning
        os.environ["YOLO_CONFIG_DIR"] = str(config)


def resolve_model_path(model: str | os.PathLike[str], folder: Path | None = None) -> Path:
    """The model file, checked to exist; DetectorError (one line) otherwise."""
    text = os.fspath(model or "").strip()
    if not text:
        raise DetectorError(
            "the ultralytics backend needs a model file; " + HOW_TO_GET.replace("there", "in MODELS_DIR")
        )
    path = Path(text)
    if not path.is_absolute():
        folder = folder if folder is not None else models_dir()
        if folder is None:
            raise DetectorError(f"model {text!r} is not an absolute path and no MODELS_DIR is configured")
        path = folder / path
    if path.suffix.lower() not in SUFFIXES:
        raise DetectorError(f"model {path.name!r} is not an ultralytics model file ({', '.join(SUFFIXES)})")
    if not path.exists():
        raise DetectorError(f"model file {path} not found: {HOW_TO_GET.replace('there', f'in {path.parent}')}")
    return path


MISSING = (
    "the ultralytics backend needs the ultralytics extra, which the default install leaves out: "
    "pip install -r requirements/ultralytics.txt in AINVR's virtualenv "
    "(or start with AINVR_REQUIREMENTS=requirements/cpu-ultralytics.txt ./scripts/up)"
)


def import_yolo():
    """ultralytics' YOLO class, imported offline; DetectorError (one line) when the extra is
    not installed."""
    prepare_offline_environment()
    from PIL import Image

    pil_open = Image.open
    try:
        from ultralytics import YOLO
    except ImportError as e:
        if (e.name or "").split(".")[0] in ("ultralytics", "torch", "torchvision"):
            raise DetectorError(MISSING) from None
        raise
    finally:
        # ultralytics replaces PIL's Image.open process-wide with one that, on a file Pillow
        # cannot read, imports pi-heif (not installed: ModuleNotFoundError instead of
        # UnidentifiedImageError), which broke the face-photo checks in the same process.
        # Frames reach ultralytics as arrays, so it needs none of that.
        Image.open = pil_open
    return YOLO


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@detectors.register("ultralytics")
class UltralyticsDetector(Detector):
    """YOLO (v5u, v8, 11, ...) through ultralytics' own predictor: letterbox, inference,
    NMS, boxes scaled back to each image."""

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] = "yolov8n.pt",
        device: str = "cpu",
        half: bool | None = None,
        imgsz: int | None = None,
        iou: float = 0.45,
        models_dir: str | os.PathLike[str] | None = None,
        confidence: float = 0.5,
        classes: Sequence[str] | None = None,
        max_batch: int = 8,
    ):
        super().__init__(confidence=confidence, classes=classes, max_batch=max_batch)
        self.model_name = os.fspath(model)
        self.requested_device = device
        self.half_requested = half
        self.imgsz = imgsz
        self.iou = iou
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self.device = "cpu"
        self.half = False
        self.model_path: Path | None = None
        self.labels: dict[int, str] = {}
        self._model: Any = None  # an ultralytics YOLO once loaded

    def _load(self) -> None:
        self.model_path = resolve_model_path(self.model_name, self.models_dir)
        YOLO = import_yolo()

        self.device = select_device(self.requested_device, cuda_count=_cuda_count, backend="ultralytics")
        on_gpu = self.device.startswith("cuda")
        if self.half_requested and not on_gpu:
            logger.info("ultralytics detector: half precision is for GPUs; running fp32 on the CPU")
        self.half = on_gpu and self.half_requested is not False
        try:
            model = YOLO(str(self.model_path), task="detect")
        except Exception as e:
            raise DetectorError(f"cannot open {self.model_path}: {e.__class__.__name__}: {e}") from e
        if model.task not in BOX_TASKS:
            raise DetectorError(f"{self.model_path.name} is a {model.task} model; give a detection model")
        self._model = model
        self.labels = {int(k): str(v) for k, v in model.names.items()}
        # The first predict builds the predictor and warms the model up: do it here so the
        # first real frame is not slow.
        self._predict([np.zeros((64, 64, 3), dtype=np.uint8)])
        logger.info("detector loaded: %s", self.describe())

    def _predict(self, images: list[np.ndarray]):
        wanted = None
        if self.classes is not None:
            wanted = [i for i, name in self.labels.items() if name in self.classes] or None
        options = {
            "device": self.device,
            "conf": self.confidence,
            "iou": self.iou,
            "classes": wanted,
            "verbose": False,
            "save": False,
        }
        if self.imgsz:
            options["imgsz"] = self.imgsz
        if self.half:
            options["quantize"] = 16  # ultralytics 8.4's name for half precision (`half` is deprecated)
        return self._model.predict(images, **options)

    def _detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        results = self._predict(images)
        found: list[list[Detection]] = []
        for result in results:
            boxes = result.boxes
            if boxes is None or len(boxes) == 0:
                found.append([])
                continue
            xyxyn = boxes.xyxyn.cpu().numpy().clip(0.0, 1.0)
            scores = boxes.conf.cpu().numpy()
            class_ids = boxes.cls.cpu().numpy().astype(int)
            found.append(
                [
                    Detection(
                        label=self.labels.get(int(c), str(int(c))),
                        confidence=float(s),
                        box=cast("tuple[float, float, float, float]", tuple(float(v) for v in b)),
                    )
                    for b, s, c in zip(xyxyn, scores, class_ids, strict=True)
                ]
            )
        return found

    def close(self) -> None:
        self._model = None
        super().close()

    def describe(self) -> str:
        model = self.model_path.name if self.model_path else self.model_name
        return f"ultralytics {model} on {self.device}{' fp16' if self.half else ''}"


def export_onnx(weights: Path, folder: Path, *, imgsz: int = 640) -> Path:
    """An ultralytics model file (.pt) exported to ONNX in `folder` (NCHW input of imgsz,
    dynamic batch, class names in its metadata); DetectorError (one line) when it cannot be."""
    YOLO = import_yolo()
    try:
        model = YOLO(str(weights), task="detect")
    except Exception as e:  # ultralytics and torch raise many kinds for a bad file
        raise DetectorError(f"{weights.name} is not a model ultralytics can open: {e}".splitlines()[0]) from e
    if model.task != "detect":
        raise DetectorError(f"{weights.name} is a {model.task} model; give a detection model")
    try:
        exported = model.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=False, project=str(folder))
    except Exception as e:
        raise DetectorError(f"{weights.name} could not be exported to ONNX: {e}".splitlines()[0]) from e
    path = Path(exported)
    if not path.is_file():
        raise DetectorError(f"{weights.name}: ultralytics reported {exported} but wrote no ONNX file")
    return path
