"""Object detectors, picked by name.

This package is the only place that imports onnxruntime, torch or ultralytics, and it
does so lazily: ``import detection.backends`` costs nothing, and a backend module is only
imported when ``create_detector`` is asked for it. The web process never loads a model.

    detector = create_detector("onnx", model="coco-centernet-mbv3.onnx", device="cpu")
    detector.load()
    results = detector.detect([bgr_image, ...])  # one list of Detection per image

A backend registers itself with ``@detectors.register("name")`` on its Detector subclass;
the module holding it is listed in the registry so that it is imported on first use
(detection.backends.registry, shared with the face backends).
"""

from detection.backends.base import (
    Detection,
    Detector,
    DetectorError,
    class_wise_nms,
    create_detector,
    detectors,
    input_size_options,
    select_device,
)

__all__ = [
    "Detection",
    "Detector",
    "DetectorError",
    "class_wise_nms",
    "create_detector",
    "input_size_options",
    "detectors",
    "select_device",
]
