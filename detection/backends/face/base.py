"""What every face backend offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from detection.backends.registry import Registry


class FaceBackendUnavailable(RuntimeError):
    """The backend cannot run here: a package, model file or model pack is missing.
    The message is one line meant for the user."""


@dataclass(frozen=True)
class DetectedFace:
    """A face in picture pixels: box (x1, y1, x2, y2), detector score 0..1 and the five
    landmarks (eyes, nose tip, mouth corners) the embedder aligns with."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray = field(repr=False)  # shape (5, 2), float32
    # The backend's own record of the face (e.g. YuNet's 15-value row), handed back to embed().
    raw: object = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


class FaceBackend(ABC):
    """Detect faces and embed them. Subclasses load their models in __init__ (a worker or
    an RQ job builds one backend and keeps it) and set `model_name` and `dimension`:
    templates remember both, so vectors from another model are never compared."""

    name: str = ""
    model_name: str = ""
    dimension: int = 0

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """Faces in a BGR uint8 picture, best score first."""

    @abstractmethod
    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        """The identity vector of `face` (aligned on its landmarks): float32, length
        `dimension`, L2-normalised so cosine similarity is a dot product."""

    def embed_many(self, image: np.ndarray, faces: list[DetectedFace]) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.embed(image, face) for face in faces])


def normalised(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


face_backends: Registry[FaceBackend] = Registry(
    "face backend",
    FaceBackend,
    {
        "opencv-sface": "detection.backends.face.opencv_sface",
        "insightface": "detection.backends.face.insightface_pack",
    },
    FaceBackendUnavailable,
)
