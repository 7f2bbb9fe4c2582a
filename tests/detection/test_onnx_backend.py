"""The default detector (onnx + bundled CenterNet) on real photos."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from detection.backends import DetectorError, create_detector
from detection.backends.onnx import (
    BUNDLED_SHA256,
    DEFAULT_MODEL,
    INT8_MODEL,
    WEIGHTS_DIR,
    bundled_model,
    decode_yolo,
    sha256_of,
)


def _labels(found, minimum=0.0):
    return sorted(d.label for d in found if d.confidence >= minimum)


def test_it_finds_the_people_and_the_bus_in_bus_jpg(onnx_detector, bus_photo):
    [found] = onnx_detector.detect([bus_photo])
    people = [d for d in found if d.label == "person" and d.confidence >= 0.5]
    buses = [d for d in found if d.label == "bus" and d.confidence >= 0.4]
    assert len(people) == 3, found
    assert len(buses) == 1, found  # class-wise NMS merged the duplicate bus boxes the model returns
    bus = buses[0].box
    assert bus[2] - bus[0] > 0.8  # the bus spans the photo's width
    for person in people:
        x1, y1, x2, y2 = person.box
        assert 0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0
        assert y2 > 0.75  # they stand on the ground, in front of the bus
    # Sorted by confidence, highest first.
    assert [d.confidence for d in found] == sorted((d.confidence for d in found), reverse=True)


def test_it_finds_nobody_where_there_is_nobody(onnx_detector, street_photo_without_people):
    [found] = onnx_detector.detect([street_photo_without_people])
    assert "person" not in _labels(found)
    assert "bus" in _labels(found, 0.3)


def test_a_plain_grey_frame_gives_nothing(onnx_detector):
    assert onnx_detector.detect([np.full((360, 640, 3), 128, np.uint8)]) == [[]]


def test_a_batch_gives_the_same_answers_as_single_images(onnx_detector, bus_photo, street_photo_without_people):
    batch = onnx_detector.detect([bus_photo, street_photo_without_people, bus_photo])
    assert batch[0] == onnx_detector.detect([bus_photo])[0]
    assert batch[1] == onnx_detector.detect([street_photo_without_people])[0]
    assert batch[2] == batch[0]


def test_classes_and_confidence_filter_the_answer(bus_photo):
    detector = create_detector("onnx", precision="fp32", confidence=0.5, classes=["bus", "car"], threads=1)
    [found] = detector.detect([bus_photo])
    assert found == []  # three people above 0.5 but they were not asked for; the bus scores 0.48
    detector = create_detector("onnx", precision="fp32", confidence=0.4, classes=["bus"], threads=1)
    assert _labels(detector.detect([bus_photo])[0]) == ["bus"]


def test_the_bundled_model_is_the_one_the_manifest_names():
    assert sha256_of(WEIGHTS_DIR / DEFAULT_MODEL) == BUNDLED_SHA256[DEFAULT_MODEL]
    assert "Permission is hereby granted, free of charge" in (WEIGHTS_DIR / "LICENSE").read_text()
    assert BUNDLED_SHA256[DEFAULT_MODEL] in (WEIGHTS_DIR / "PROVENANCE.md").read_text()


def test_a_model_in_the_models_folder_is_chosen_by_name(tmp_path, bus_photo):
    shutil.copy(WEIGHTS_DIR / DEFAULT_MODEL, tmp_path / "mine.onnx")
    detector = create_detector("onnx", model="mine.onnx", models_dir=tmp_path, confidence=0.5, threads=1)
    assert _labels(detector.detect([bus_photo])[0]) == ["person", "person", "person"]
    assert detector.model_path == tmp_path / "mine.onnx"


def test_a_missing_model_says_where_to_put_it(tmp_path):
    detector = create_detector("onnx", model="yolov8n.onnx", models_dir=tmp_path)
    with pytest.raises(DetectorError, match=r"'yolov8n.onnx' not found: put it in .*MODELS_DIR"):
        detector.load()


def test_a_damaged_bundled_model_is_refused(tmp_path, monkeypatch):
    damaged = tmp_path / DEFAULT_MODEL
    damaged.write_bytes((WEIGHTS_DIR / DEFAULT_MODEL).read_bytes()[:-10])
    monkeypatch.setattr("detection.backends.onnx.WEIGHTS_DIR", tmp_path)
    with pytest.raises(DetectorError, match="damaged"):
        create_detector("onnx").load()


def test_a_file_that_is_not_a_model_is_one_clear_error(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="junk.onnx cannot be loaded by onnxruntime"):
        create_detector("onnx", model="junk.onnx", models_dir=tmp_path).load()


def test_cuda_without_a_gpu_runs_on_the_cpu_with_one_warning(caplog, bus_photo):
    caplog.set_level(logging.INFO, logger="detection.backends")
    detector = create_detector("onnx", device="cuda:0", precision="fp32", confidence=0.5, threads=1)
    detector.load()
    assert detector.device == "cpu"
    assert detector.providers == ["CPUExecutionProvider"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cuda:0" in warnings[0] and "CPU" in warnings[0]
    assert _labels(detector.detect([bus_photo])[0]).count("person") == 3


def test_yolo_style_output_is_decoded():
    # Eight anchors (only the first two score), three classes: (4 + 3, 8) columns of
    # cx, cy, w, h, class scores, as ultralytics exports them.
    raw = np.zeros((7, 8), dtype=np.float32)
    raw[:, 0] = [100, 100, 20, 40, 0.1, 0.9, 0.3]
    raw[:, 1] = [300, 300, 40, 40, 0.2, 0.1, 0.05]
    boxes, scores, classes = decode_yolo(raw, 0.5)
    assert boxes.tolist() == [[90, 80, 110, 120]]
    assert scores.tolist() == pytest.approx([0.9])
    assert classes.tolist() == [1]
    # Anchors-first exports give the same answer.
    assert decode_yolo(raw.T, 0.5)[0].tolist() == boxes.tolist()


@pytest.fixture(scope="module")
def int8_detector():
    detector = create_detector("onnx", precision="int8", confidence=0.25, device="cpu", threads=1)
    detector.load()
    return detector


def test_the_int8_model_finds_the_people_and_the_bus_in_bus_jpg(int8_detector, bus_photo):
    assert int8_detector.model_path.name == INT8_MODEL
    [found] = int8_detector.detect([bus_photo])
    people = [d for d in found if d.label == "person" and d.confidence >= 0.5]
    buses = [d for d in found if d.label == "bus" and d.confidence >= 0.4]
    assert len(people) == 3, found
    assert len(buses) == 1 and buses[0].box[2] - buses[0].box[0] > 0.8, found
    assert all(p.box[3] > 0.75 for p in people)


def test_the_int8_model_finds_nobody_where_there_is_nobody(int8_detector, street_photo_without_people):
    [found] = int8_detector.detect([street_photo_without_people])
    assert "person" not in _labels(found)
    assert "bus" in _labels(found, 0.3)


def test_int8_is_the_default_on_the_cpu_and_fp32_is_chosen_by_precision():
    default, fp32 = create_detector("onnx", threads=1), create_detector("onnx", precision="fp32", threads=1)
    default.load()
    fp32.load()
    assert default.model_path.name == INT8_MODEL and fp32.model_path.name == DEFAULT_MODEL
    assert INT8_MODEL in default.describe()


def test_a_gpu_gets_the_fp32_file_and_a_named_model_ignores_precision(tmp_path):
    assert bundled_model("int8", "cuda:0") == DEFAULT_MODEL
    assert bundled_model("int8", "cpu") == INT8_MODEL
    shutil.copy(WEIGHTS_DIR / DEFAULT_MODEL, tmp_path / "mine.onnx")
    detector = create_detector("onnx", model="mine.onnx", models_dir=tmp_path, precision="int8", threads=1)
    detector.load()
    assert detector.model_path == tmp_path / "mine.onnx"


def test_an_unknown_precision_is_refused():
    with pytest.raises(DetectorError, match="precision='fp16' is not one of int8, fp32"):
        create_detector("onnx", precision="fp16")


def test_a_damaged_int8_model_is_refused(tmp_path, monkeypatch):
    shutil.copy(WEIGHTS_DIR / DEFAULT_MODEL, tmp_path / DEFAULT_MODEL)
    (tmp_path / INT8_MODEL).write_bytes((WEIGHTS_DIR / INT8_MODEL).read_bytes()[:-10])
    monkeypatch.setattr("detection.backends.onnx.WEIGHTS_DIR", tmp_path)
    with pytest.raises(DetectorError, match="damaged"):
        create_detector("onnx").load()


def test_the_int8_model_is_the_one_the_provenance_names():
    assert sha256_of(WEIGHTS_DIR / INT8_MODEL) == BUNDLED_SHA256[INT8_MODEL]
    assert BUNDLED_SHA256[INT8_MODEL] in (WEIGHTS_DIR / "PROVENANCE.md").read_text()


@pytest.mark.parametrize(("precision", "expected"), [("int8", INT8_MODEL), ("fp32", DEFAULT_MODEL)])
def test_the_precision_setting_selects_the_file(settings, precision, expected):
    from detection.analysis.services import detector_for
    from pipeline.processes.inference import detector_options_from_settings

    settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL, settings.DETECTOR_DEVICE = "onnx", "", "cpu"
    settings.DETECTOR_PRECISION = precision
    name, options = detector_options_from_settings(settings)
    live = create_detector(name, **options)
    offline = detector_for(classes=["person"], confidence=0.5)
    for detector in (live, offline):
        detector.load()
        assert detector.model_path.name == expected


# --- input size -------------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_bundled_model_takes_a_smaller_input_and_still_finds_the_people(precision, bus_photo):
    detector = create_detector("onnx", precision=precision, input_size=384, confidence=0.4, threads=1)
    detector.load()
    assert detector.input_size == (384, 384) and "input 384x384" in detector.describe()
    [found] = detector.detect([bus_photo])
    people = [d for d in found if d.label == "person"]
    assert len(people) == 3, found
    assert all(p.box[3] > 0.75 for p in people)  # the boxes are mapped back from 384, not 512


def test_the_same_photo_at_two_input_sizes_gives_the_same_boxes(bus_photo):
    at512 = create_detector("onnx", precision="fp32", confidence=0.5, threads=1)
    at448 = create_detector("onnx", precision="fp32", input_size=448, confidence=0.5, threads=1)
    [big], [small] = at512.detect([bus_photo]), at448.detect([bus_photo])
    assert at512.input_size == (512, 512)  # the size it was trained at, by default
    big, small = [d for d in big if d.label == "person"], [d for d in small if d.label == "person"]
    assert len(big) == len(small) == 3
    for a in big:
        # Each person is the same box, in the same place, whatever the input size.
        assert max(_iou(a.box, b.box) for b in small) > 0.8


@pytest.mark.parametrize("size", [100, 500, 2048])
def test_an_input_size_that_is_not_a_multiple_of_32_in_range_is_refused(size):
    with pytest.raises(DetectorError, match=f"input_size={size} is not a multiple of 32 between 128 and 1280"):
        create_detector("onnx", input_size=size)


def test_the_names_of_the_fixed_512_files_still_select_the_bundled_models():
    renamed = (("coco-centernet-mbv3-512.onnx", DEFAULT_MODEL), ("coco-centernet-mbv3-512-int8.onnx", INT8_MODEL))
    for old, new in renamed:
        detector = create_detector("onnx", model=old, threads=1)
        detector.load()
        assert detector.model_path == WEIGHTS_DIR / new


def test_analysis_runs_the_detector_at_384_by_default_and_live_at_the_models_512(settings):
    from detection.analysis.services import detector_for
    from pipeline.processes.inference import detector_options_from_settings

    settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL, settings.DETECTOR_DEVICE = "onnx", "", "cpu"
    assert (settings.DETECTOR_INPUT_SIZE, settings.ANALYSIS_INPUT_SIZE) == (0, 0)  # the shipped defaults
    name, options = detector_options_from_settings(settings)
    live, offline = create_detector(name, **options), detector_for(classes=["person"], confidence=0.5)
    live.load()
    offline.load()
    assert (live.input_size, offline.input_size) == ((512, 512), (384, 384))
    # A size set for the live detector is a wish for its accuracy: analysis follows it.
    settings.DETECTOR_INPUT_SIZE = 512
    offline = detector_for(classes=["person"], confidence=0.5)
    offline.load()
    assert offline.input_size == (512, 512)
    # A model of one's own keeps its size.
    settings.DETECTOR_INPUT_SIZE = 0
    assert detector_for(classes=["person"], confidence=0.5, backend="ultralytics").imgsz is None
    assert detector_for(classes=["person"], confidence=0.5, model="mine.onnx").requested_input_size is None


def test_the_input_size_settings_reach_the_live_and_the_offline_detector(settings):
    from detection.analysis.services import detector_for
    from pipeline.processes.inference import detector_options_from_settings

    settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL, settings.DETECTOR_DEVICE = "onnx", "", "cpu"
    settings.DETECTOR_INPUT_SIZE, settings.ANALYSIS_INPUT_SIZE = 448, 320
    name, options = detector_options_from_settings(settings)
    live = create_detector(name, **options)
    offline = detector_for(classes=["person"], confidence=0.5)
    live.load()
    offline.load()
    assert (live.input_size, offline.input_size) == ((448, 448), (320, 320))
    settings.ANALYSIS_INPUT_SIZE = 0  # the live one's
    offline = detector_for(classes=["person"], confidence=0.5)
    offline.load()
    assert offline.input_size == (448, 448)
    settings.DETECTOR_BACKEND = "ultralytics"
    assert detector_options_from_settings(settings)[1]["imgsz"] == 448


def _iou(a, b) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_onnxruntime_threads_do_not_spin_unless_asked():
    # Spinning workers take CPU from the video decoding that shares the cores.
    quiet, spinning = create_detector("onnx", threads=2), create_detector("onnx", threads=2, spinning=True)
    quiet.load()
    spinning.load()
    entry = "session.intra_op.allow_spinning"
    assert quiet._session.get_session_options().get_session_config_entry(entry) == "0"
    with pytest.raises(RuntimeError, match="does not have configuration"):  # onnxruntime's default: spin
        spinning._session.get_session_options().get_session_config_entry(entry)
