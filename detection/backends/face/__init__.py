"""Face backends: find faces in a BGR picture and turn each into an identity vector.

The same pattern as the object detection backends: one abstract base (base.FaceBackend),
a registry keyed by name (base.face_backends), and imports of OpenCV's DNN, onnxruntime
or insightface only when a backend is built, so importing this package costs nothing and
the web process never loads a model.

    backend = get_face_backend("opencv-sface")
    faces = backend.detect(image)                 # list[DetectedFace]
    vector = backend.embed(image, faces[0])       # float32, L2-normalised, backend.dimension
"""

from __future__ import annotations

from detection.backends.face.base import DetectedFace, FaceBackend, FaceBackendUnavailable, face_backends

DEFAULT_BACKEND = "opencv-sface"

__all__ = [
    "DEFAULT_BACKEND",
    "face_backends",
    "DetectedFace",
    "FaceBackend",
    "FaceBackendUnavailable",
    "get_face_backend",
]


def get_face_backend(name: str = DEFAULT_BACKEND, **options) -> FaceBackend:
    """Build the backend called `name` (face_backends). Raises FaceBackendUnavailable with
    one line saying what is missing (package, model file or pack)."""
    return face_backends.get(name)(**options)
