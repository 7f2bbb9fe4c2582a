"""The detector contract: registry by name, lazy imports, class-wise NMS, device fallback."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from detection.backends import Detection, Detector, DetectorError, class_wise_nms, create_detector, detectors
from detection.backends.base import parse_device, select_device


class _FixedDetector(Detector):
    """Returns the same detections for every image: enough to test the base class."""

    def __init__(self, found=(), **options):
        super().__init__(**options)
        self.found = list(found)
        self.loads = 0
        self.batches: list[int] = []

    def _load(self):
        self.loads += 1

    def _detect_batch(self, images):
        self.batches.append(len(images))
        return [list(self.found) for _ in images]


@pytest.fixture
def fixed_backend():
    detectors.register("test-fixed")(_FixedDetector)
    yield "test-fixed"
    detectors.unregister("test-fixed")


def test_importing_backends_loads_no_inference_library():
    code = (
        "import sys, detection.backends, detection.backends.base; "
        "print(','.join(m for m in ('onnxruntime', 'torch', 'ultralytics') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_create_detector_builds_a_registered_backend_by_name(fixed_backend):
    detector = create_detector(fixed_backend, confidence=0.3, max_batch=2)
    assert isinstance(detector, _FixedDetector)
    assert detector.name == fixed_backend
    assert not detector.loaded


def test_unknown_backend_is_one_clear_error():
    with pytest.raises(DetectorError, match="unknown detector backend 'nope'.*onnx"):
        create_detector("nope")


def test_registering_a_second_class_under_a_taken_name_fails(fixed_backend):
    class Other(_FixedDetector):
        pass

    with pytest.raises(ValueError, match="already registered"):
        detectors.register(fixed_backend)(Other)


def test_detect_loads_once_splits_batches_and_filters(fixed_backend):
    found = [
        Detection("car", 0.4, (0.1, 0.1, 0.2, 0.2)),
        Detection("person", 0.9, (0.0, 0.0, 0.5, 0.5)),
        Detection("person", 0.2, (0.5, 0.5, 0.6, 0.6)),
        Detection("dog", 0.95, (0.3, 0.3, 0.4, 0.4)),
    ]
    detector = create_detector(fixed_backend, found=found, confidence=0.3, classes=["person", "car"], max_batch=2)
    images = [np.zeros((10, 20, 3), np.uint8)] * 5
    results = detector.detect(images)
    assert detector.loads == 1
    assert detector.batches == [2, 2, 1]
    assert len(results) == 5
    assert [(d.label, d.confidence) for d in results[0]] == [("person", 0.9), ("car", 0.4)]
    assert detector.detect([]) == []


def test_detect_rejects_images_that_are_not_bgr(fixed_backend):
    detector = create_detector(fixed_backend)
    with pytest.raises(DetectorError, match="BGR"):
        detector.detect([np.zeros((10, 20), np.uint8)])


def test_detection_is_frozen():
    d = Detection("person", 0.5, (0.0, 0.0, 1.0, 1.0))
    with pytest.raises(AttributeError):
        d.label = "car"
    assert d.as_dict() == {"label": "person", "confidence": 0.5, "box": [0.0, 0.0, 1.0, 1.0]}


def test_nms_suppresses_overlaps_within_a_class_only():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]], dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6])
    classes = np.array([0, 0, 1, 0])
    keep = class_wise_nms(boxes, scores, classes, iou_threshold=0.5)
    # Box 1 beats box 0 (same class, IoU 0.81); box 2 is another class; box 3 does not overlap.
    assert keep.tolist() == [1, 2, 3]
    assert class_wise_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0)).tolist() == []


def test_nms_keeps_boxes_that_overlap_less_than_the_threshold():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], dtype=np.float32)  # IoU 1/3
    assert sorted(class_wise_nms(boxes, [0.9, 0.8], [0, 0], iou_threshold=0.5).tolist()) == [0, 1]
    assert class_wise_nms(boxes, [0.9, 0.8], [0, 0], iou_threshold=0.3).tolist() == [0]


def test_cuda_asked_where_there_is_none_falls_back_to_cpu_with_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="detection.backends")
    assert select_device("cuda:1", cuda_count=lambda: 0, backend="onnx") == "cpu"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cuda:1" in warnings[0].getMessage() and "CPU" in warnings[0].getMessage()


def test_cuda_device_is_kept_when_present_and_cpu_needs_no_query(caplog):
    caplog.set_level(logging.WARNING, logger="detection.backends")
    assert select_device("cuda:1", cuda_count=lambda: 2) == "cuda:1"
    assert select_device("cpu", cuda_count=lambda: 1 / 0) == "cpu"
    assert caplog.records == []


def test_a_broken_cuda_query_falls_back_to_cpu(caplog):
    def broken():
        raise RuntimeError("driver mismatch")

    caplog.set_level(logging.WARNING, logger="detection.backends")
    assert select_device("cuda", cuda_count=broken) == "cpu"
    assert "driver mismatch" in caplog.records[0].getMessage()


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:-1", "tpu:0"])
def test_bad_device_names_are_rejected(bad):
    with pytest.raises(DetectorError, match="device"):
        parse_device(bad)
