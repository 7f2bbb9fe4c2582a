"""Face backends: find faces in a BGR picture and turn each into an identity vector.

The same pattern as the object detection backends: one abstract base (base.FaceBackend),
a registry keyed by name, and imports of OpenCV's DNN / onnxruntime / insightface only
when a backend is built, so importing this package costs nothing and the web process
never loads a model.

    backend = get_face_backend("opencv-sface")
    faces = backend.detect(image)                 # list[DetectedFace]
    vector = backend.embed(image, faces[0])       # float32, L2-normalised, backend.dimension
"""

from __future__ import annotations

from importlib import import_module

from detection.backends.face.base import DetectedFace, FaceBackend, FaceBackendUnavailable

DEFAULT_BACKEND = "opencv-sface"

# name -> "module:Class"; the module is imported on first use.
REGISTRY = {
    "opencv-sface": "detection.backends.face.opencv_sface:OpenCVSFaceBackend",
    "insightface": "detection.backends.face.insightface_pack:InsightFaceBackend",
}

__all__ = ["DEFAULT_BACKEND", "REGISTRY", "DetectedFace", "FaceBackend", "FaceBackendUnavailable", "get_face_backend"]


def get_face_backend(name: str = DEFAULT_BACKEND, **options) -> FaceBackend:
    """Build the backend called `name` (see REGISTRY). Raises FaceBackendUnavailable with
    one line saying what is missing (package, model file or pack)."""
    try:
        target = REGISTRY[name]
    except KeyError:
        raise FaceBackendUnavailable(
            f"unknown face backend {name!r}; choose one of {', '.join(sorted(REGISTRY))}"
        ) from None
    module_name, class_name = target.split(":")
    backend_class = getattr(import_module(module_name), class_name)
    return backend_class(**options)
