"""The ultralytics backend on real weights (the tiny person/car YOLOv8n) and real video."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from detection.backends import DetectorError, create_detector
from tests.detection.shapes import random_scene, scene_frames
from tests.detection.tiny_yolo import *  # noqa: F403  (fixtures)
from tests.detection.tiny_yolo import box_iou, normalised

REPO = Path(__file__).resolve().parents[2]


def read_rtsp_frames(url: str, *, limit: int, timeout: float = 5.0) -> list[tuple[float, np.ndarray]]:
    """(seconds since the first frame, BGR image) for up to `limit` frames of a live stream."""
    frames = []
    options = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32768"}
    with av.open(url, options=options, timeout=(timeout, timeout)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            first = frame.pts if first is None else first
            frames.append((float((frame.pts - first) * stream.time_base), frame.to_ndarray(format="bgr24")))
            if len(frames) >= limit:
                break
    return frames


def truth_near(t: float, fps: int = 10, seconds: float = 8.0, width: int = 320, height: int = 240):
    """The objects drawn within one frame of time t, as normalised boxes per label."""
    near = {}
    for moment, _, things in scene_frames(seconds, fps, width, height):
        if abs(moment - t) <= 1.01 / fps:
            for thing in things:
                near.setdefault(thing.label, []).append(normalised(thing, width, height))
    return near


def test_it_finds_the_shapes_in_a_clip_streamed_over_rtsp(make_rtsp_server, scene_clip, tiny_detector):
    server = make_rtsp_server(clip=scene_clip)
    frames = read_rtsp_frames(server.url(), limit=80)
    assert len(frames) >= 70  # the whole 8 s clip, give or take the first GOP
    detector = tiny_detector(max_batch=8)

    sampled = frames[::2]
    results = detector.detect([image for _, image in sampled])

    assert len(results) == len(sampled)
    hits = misses = false = 0
    labels_seen = set()
    for (t, _), found in zip(sampled, results, strict=True):
        truth = truth_near(t)
        expected = {label for label, boxes in truth.items() if boxes}
        for detection in found:
            labels_seen.add(detection.label)
            if not any(box_iou(detection.box, box) > 0.5 for box in truth.get(detection.label, [])):
                false += 1
        for label in expected:
            if any(d.label == label and max(box_iou(d.box, b) for b in truth[label]) > 0.5 for d in found):
                hits += 1
            else:
                misses += 1
    assert labels_seen == {"person", "car"}
    assert hits >= 0.85 * (hits + misses), (hits, misses)
    assert false <= 0.1 * max(1, hits), (false, hits)


def test_a_batch_gives_one_sorted_list_per_image_in_order(tiny_detector):
    rng = np.random.default_rng(3)
    scene, things = random_scene(rng, 320, 240)
    blank = np.full((240, 320, 3), 127, dtype=np.uint8)
    detector = tiny_detector(confidence=0.25)

    empty, full, wide = detector.detect([blank, scene, np.ascontiguousarray(scene[:180])])

    assert empty == []
    assert {d.label for d in full} >= {t.label for t in things if t.h > 40}
    assert [d.confidence for d in full] == sorted((d.confidence for d in full), reverse=True)
    for detection in full + wide:
        x1, y1, x2, y2 = detection.box
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1


def test_classes_keep_only_the_labels_asked_for(tiny_detector):
    frame = next(image for t, image, things in scene_frames(8, 10) if t >= 1.5)
    both = tiny_detector().detect([frame])[0]
    cars_only = tiny_detector(classes=["car"]).detect([frame])[0]

    assert [d.label for d in both] == ["person"]
    assert cars_only == []


def test_a_missing_model_file_is_one_line_saying_where_to_put_one(tmp_path):
    detector = create_detector("ultralytics", model="yolov8n.pt", models_dir=tmp_path)

    with pytest.raises(DetectorError) as e:
        detector.load()

    message = str(e.value)
    assert "\n" not in message
    assert str(tmp_path / "yolov8n.pt") in message
    assert "yolo11n.pt" in message and "https://github.com/ultralytics/assets/releases" in message
    assert not detector.loaded


def test_a_model_name_is_looked_up_in_the_models_folder(settings, tmp_path, tiny_weights):
    (tmp_path / "shapes.pt").write_bytes(tiny_weights.read_bytes())
    settings.MODELS_DIR = tmp_path
    detector = create_detector("ultralytics", model="shapes.pt")
    detector.load()

    assert detector.model_path == tmp_path / "shapes.pt"
    assert detector.labels == {0: "person", 1: "car"}


def test_a_file_that_is_no_model_is_one_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.pt").write_bytes(b"not a torch file")

    with pytest.raises(DetectorError, match="not an ultralytics model file"):
        create_detector("ultralytics", model=str(tmp_path / "notes.txt")).load()
    with pytest.raises(DetectorError, match="cannot open .*broken.pt"):
        create_detector("ultralytics", model=str(tmp_path / "broken.pt")).load()


def test_asking_for_cuda_without_a_gpu_runs_on_the_cpu_with_one_log_line(tiny_detector, caplog):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the fallback cannot be seen")
    with caplog.at_level(logging.WARNING, logger="detection.backends"):
        detector = tiny_detector(device="cuda:0", half=True)

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cuda:0" in warnings[0].getMessage() and "CPU" in warnings[0].getMessage()
    assert detector.device == "cpu" and detector.half is False  # fp16 is for GPUs only
    assert detector.describe().endswith("on cpu")


def test_loading_and_predicting_never_touch_the_network(tmp_path, tiny_weights):
    """In a fresh process (ultralytics reads its switches at import) where any DNS lookup or
    connection raises, with none of the YOLO_* variables set beforehand."""
    code = f"""
import os, socket
def refuse(*args, **kwargs):
    raise AssertionError("network used: %r" % (args,))
socket.getaddrinfo = socket.create_connection = refuse
socket.socket.connect = refuse
import django
django.setup()
import numpy as np
from django.conf import settings
from detection.backends import create_detector
detector = create_detector("ultralytics", model={str(tiny_weights)!r}, confidence=0.25)
detector.load()
detector.detect([np.zeros((240, 320, 3), np.uint8)])
print(os.environ["YOLO_OFFLINE"], os.environ["YOLO_AUTOINSTALL"], os.environ["YOLO_CONFIG_DIR"], settings.DATA_DIR)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOLO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="ainvr.settings", DATA_DIR=str(tmp_path / "data"), SECRET_KEY=secrets.token_urlsafe(50)
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    offline, autoinstall, config_dir, data_dir = out.stdout.split()[-4:]
    assert (offline, autoinstall) == ("1", "False")
    assert Path(config_dir).is_relative_to(Path(data_dir))


def test_without_the_ultralytics_extra_the_backend_is_one_line_naming_the_extra(monkeypatch, tiny_weights):
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # what `import ultralytics` finds in a lean venv
    detector = create_detector("ultralytics", model=str(tiny_weights))

    with pytest.raises(DetectorError) as e:
        detector.load()

    message = str(e.value)
    assert "\n" not in message and "requirements/ultralytics.txt" in message
    assert not detector.loaded


def test_loading_ultralytics_leaves_pillow_as_it_was(tmp_path):
    """ultralytics patches PIL.Image.open when imported; a face photo that is no image must
    still be PIL's UnidentifiedImageError in a process that loaded it, not a missing pi_heif."""
    from PIL import Image, UnidentifiedImageError

    from detection.backends.ultralytics import import_yolo

    import_yolo()
    bad = tmp_path / "face.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(UnidentifiedImageError):
        Image.open(bad)
