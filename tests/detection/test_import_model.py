"""manage.py import_model: a user's YOLO (.pt converted, or .onnx) checked, stored in
MODELS_DIR with its checksum, and run by the default onnx backend; bad files refused in one
line with nothing written."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from detection.backends import DetectorError, create_detector
from tests.detection.shapes import random_scene
from tests.detection.tiny_yolo import *  # noqa: F403 (fixtures)
from tests.detection.tiny_yolo import box_iou


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def import_model(*args) -> str:
    out = io.StringIO()
    call_command("import_model", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def exported(tiny_weights, tmp_path_factory):
    """The tiny YOLO imported once (an export takes seconds): its folder and what the command said."""
    from detection.model_files import import_model as service

    folder = tmp_path_factory.mktemp("models")
    return folder, service(tiny_weights, folder, name="tiny.onnx", imgsz=160)


def test_a_pt_model_is_converted_stored_with_its_checksum_and_runs_on_the_onnx_backend(exported, tiny_detector):
    folder, model = exported
    assert model.path == folder / "tiny.onnx" and model.converted and model.classes == 2
    assert (folder / "tiny.onnx.sha256").read_text().split()[0] == model.sha256
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.onnx", "tiny.onnx.sha256"]
    onnx = create_detector("onnx", model="tiny.onnx", models_dir=folder, confidence=0.25, threads=1)
    onnx.load()
    assert onnx.labels == ("person", "car")  # from the file's metadata, not COCO's order
    scene, things = random_scene(np.random.default_rng(3), 320, 240)
    found = onnx.detect([scene])[0]
    reference = tiny_detector(confidence=0.25).detect([scene])[0]
    assert {d.label for d in found} >= {t.label for t in things if t.h > 40}
    for d in reference[:2]:  # the same objects as ultralytics' own predictor
        assert max(box_iou(d.box, f.box) for f in found if f.label == d.label) >= 0.5


def test_the_command_stores_a_model_and_says_how_to_use_it(exported, models_dir):
    folder, _ = exported
    said = import_model(folder / "tiny.onnx", "--name", "yard.onnx")
    assert (models_dir / "yard.onnx").is_file() and (models_dir / "yard.onnx.sha256").is_file()
    assert "DETECTOR_MODEL=yard.onnx" in said and "2 classes" in said
    with pytest.raises(CommandError, match="exists already; add --replace"):
        import_model(folder / "tiny.onnx", "--name", "yard.onnx")
    import_model(folder / "tiny.onnx", "--name", "yard.onnx", "--replace")


def test_a_model_damaged_after_import_is_refused_at_load(exported, tmp_path):
    folder, _ = exported
    copy = tmp_path / "tiny.onnx"
    copy.write_bytes((folder / "tiny.onnx").read_bytes())
    (tmp_path / "tiny.onnx.sha256").write_text((folder / "tiny.onnx.sha256").read_text())
    with copy.open("r+b") as f:
        f.seek(-100, 2)
        f.write(b"\0" * 10)
    with pytest.raises(DetectorError, match="damaged.*import it again"):
        create_detector("onnx", model="tiny.onnx", models_dir=tmp_path).load()


@pytest.mark.parametrize(
    ("content", "file_name", "says"),
    [
        (b"not a model at all", "junk.onnx", "cannot be loaded by onnxruntime"),
        (b"", "empty.onnx", "cannot be loaded by onnxruntime"),
        (b"\x89PNG\r\n", "photo.png", "give an ONNX model (.onnx) or an ultralytics one (.pt)"),
    ],
)
def test_a_bad_file_is_one_line_and_nothing_is_written(tmp_path, models_dir, content, file_name, says):
    bad = tmp_path / file_name
    bad.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        import_model(bad)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert not models_dir.exists() or not any(models_dir.iterdir())


def test_a_model_whose_output_is_no_detector_is_refused(tmp_path, models_dir):
    """A classifier (one output of 1000 scores) is a valid ONNX file but no detector."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["images"], ["pooled"], axes=[2, 3], keepdims=0)],
        "classifier",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, 3])],
    )
    path = tmp_path / "classifier.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    with pytest.raises(CommandError, match="classifier.onnx: no output in a known layout"):
        import_model(path)
    assert not models_dir.exists() or not any(models_dir.iterdir())


def test_a_pt_model_without_the_ultralytics_extra_is_one_line_naming_it(monkeypatch, tiny_weights, models_dir):
    monkeypatch.setitem(sys.modules, "ultralytics", None)
    with pytest.raises(CommandError, match="requirements/ultralytics.txt"):
        import_model(tiny_weights)


def test_the_bundled_name_is_not_taken(exported, models_dir):
    folder, _ = exported
    with pytest.raises(CommandError, match="the bundled model's"):
        import_model(folder / "tiny.onnx", "--name", "coco-centernet-mbv3.onnx")
