"""The detector contract, the registry, and helpers every backend shares.

Nothing here imports an inference library: numpy only.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from detection.backends.registry import Registry

logger = logging.getLogger("detection.backends")


class DetectorError(Exception):
    """A detector cannot be created or loaded (unknown name, missing model file, bad
    option). The message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in one image. ``box`` is (x1, y1, x2, y2) normalised to 0..1 of
    the image the detector was given, so it applies to any resolution of that frame."""

    label: str
    confidence: float
    box: tuple[float, float, float, float]

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "box": list(self.box)}


class Detector(ABC):
    """A loaded-once object detector.

    Subclasses take their options in ``__init__`` (no I/O there), open the model in
    ``load()`` (called once; ``detect`` calls it when nobody did), and implement
    ``_detect_batch``. Images are BGR ``uint8`` arrays of shape (H, W, 3), as OpenCV and
    cameras.frames.Frame give them; sizes may differ within a batch.
    """

    name: str = ""

    def __init__(self, *, confidence: float = 0.5, classes: Sequence[str] | None = None, max_batch: int = 8):
        if not 0.0 <= confidence <= 1.0:
            raise DetectorError(f"confidence={confidence} must be between 0 and 1")
        if max_batch < 1:
            raise DetectorError(f"max_batch={max_batch} must be at least 1")
        self.confidence = float(confidence)
        self.classes = frozenset(classes) if classes else None
        self.max_batch = int(max_batch)
        self._loaded = False

    def load(self) -> None:
        """Open the model (idempotent)."""
        if not self._loaded:
            self._load()
            self._loaded = True

    @property
    def loaded(self) -> bool:
        return self._loaded

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detect objects in each image; one list per image, in the same order, each
        sorted by confidence (highest first), filtered by ``confidence`` and ``classes``.
        Batches larger than ``max_batch`` are split."""
        if not images:
            return []
        self.load()
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            chunk = list(images[start : start + self.max_batch])
            for image in chunk:
                if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
                    raise DetectorError("each image must be a BGR array of shape (height, width, 3)")
            results.extend(self._detect_batch(chunk))
        return [self._keep(found) for found in results]

    def _keep(self, found: list[Detection]) -> list[Detection]:
        kept = [
            d for d in found if d.confidence >= self.confidence and (self.classes is None or d.label in self.classes)
        ]
        kept.sort(key=lambda d: d.confidence, reverse=True)
        return kept

    def close(self) -> None:
        """Release the model (optional)."""
        self._loaded = False

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """Detections for each image of a batch of at most ``max_batch``; filtering by
        confidence and class may be left to the base class."""

    def describe(self) -> str:
        """One line for logs: backend, model, device."""
        return self.name


detectors: Registry[Detector] = Registry(
    "detector backend",
    Detector,
    {"onnx": "detection.backends.onnx", "ultralytics": "detection.backends.ultralytics"},
    DetectorError,
)


def create_detector(name: str, **options) -> Detector:
    """A detector of the named backend, not yet loaded (call ``load()`` where the
    model should be opened, e.g. in the inference process)."""
    return detectors.get(name)(**options)


def class_wise_nms(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float = 0.5
) -> np.ndarray:
    """Non-maximum suppression per class: indices of the boxes to keep, by decreasing
    score. ``boxes`` is (N, 4) as x1, y1, x2, y2 (any unit); boxes of different classes
    never suppress each other (a person on a bicycle keeps both)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    class_ids = np.asarray(class_ids).reshape(-1)
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    # Shift each class into its own region of the plane so one pass suppresses per class
    # (the trick torchvision's batched_nms uses).
    offsets = class_ids.astype(np.float32) * (float(boxes.max()) + 1.0)
    shifted = boxes + offsets[:, None]
    x1, y1, x2, y2 = shifted.T
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = w * h
        union = areas[best] + areas[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def parse_device(device: str) -> tuple[str, int]:
    """'cpu' -> ('cpu', 0); 'cuda' / 'cuda:N' / 'N' -> ('cuda', N). Raises DetectorError."""
    text = (device or "cpu").strip().lower()
    if text == "cpu":
        return "cpu", 0
    if text.isdigit():
        return "cuda", int(text)
    if text == "cuda":
        return "cuda", 0
    if text.startswith("cuda:") and text[5:].isdigit():
        return "cuda", int(text[5:])
    raise DetectorError(f"device {device!r} is not understood; use cpu or cuda:N (e.g. cuda:0)")


def select_device(requested: str, *, cuda_count: Callable[[], int], backend: str = "") -> str:
    """The device to run on: ``requested`` when it exists, else 'cpu' with ONE warning
    line saying why. ``cuda_count`` returns how many CUDA devices the backend can use
    (each backend asks its own library, lazily)."""
    kind, index = parse_device(requested)
    if kind == "cpu":
        return "cpu"
    try:
        count = int(cuda_count())
    except Exception as e:  # a broken driver must not stop detection: CPU still works
        count = 0
        reason = f"CUDA could not be queried ({e.__class__.__name__}: {e})"
    else:
        reason = "no CUDA device is available" if count == 0 else f"only {count} CUDA device(s) are available"
    if index < count:
        return f"cuda:{index}"
    who = f"{backend} detector" if backend else "detector"
    logger.warning("%s: cuda:%d was asked for but %s; running on the CPU", who, index, reason)
    return "cpu"


def input_size_options(backend: str, size: int) -> dict:
    """The create_detector() option for an input size setting (0: the model's own)."""
    if not size:
        return {}
    return {"imgsz": size} if backend == "ultralytics" else {"input_size": size}
