"""Cameras mounted on their side: AI looks at the picture turned upright, and boxes come
back into the picture as the camera sends it (so they sit on the live video)."""

from __future__ import annotations

import queue
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from cameras.frames import Frame, box_from_upright, rotate
from detection.selectors import CameraAI
from detection.services import ObjectEventStore
from detection.stage import InferenceStage
from pipeline.supervisor import camera_spec
from tests.detection.test_inference_stage import YELLOW, Recorder, YellowBoxDetector, background

W, H = 320, 180


def yellow_box(image) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(np.all(image == YELLOW, axis=2))
    h, w = image.shape[:2]
    return (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_a_box_found_upright_maps_back_onto_the_picture(degrees):
    image = background()
    image[30:150, 200:240] = YELLOW  # off-centre, so a wrong mapping shows
    upright = rotate(image, degrees)
    assert upright.shape[:2] == ((W, H) if degrees in (90, 270) else (H, W))
    assert box_from_upright(yellow_box(upright), degrees) == pytest.approx(yellow_box(image))


def test_a_person_lying_in_the_picture_of_a_sideways_camera_is_found_standing(camera):
    """Through the stage: the detector gets the picture turned 90 degrees clockwise and its
    box is published and stored where the person is in the camera's picture."""
    frames, published = queue.Queue(), Recorder()
    detector = YellowBoxDetector()
    stage = InferenceStage(
        frames=frames,
        detector=detector,
        camera_settings=lambda: {camera.pk: CameraAI(camera.pk, camera.slug, True, frozenset({"person"}), 0.5, False)},
        store=ObjectEventStore({camera.pk: camera}),
        publisher=published,
        batch_size=1,
        batch_ms=0,
    )
    t0 = timezone.now() - timedelta(minutes=1)
    for i in range(6):
        image = background()
        image[60:100, 40 + 10 * i : 160 + 10 * i] = YELLOW  # 120 x 40: a person lying down, as the camera sees it
        frames.put(Frame(camera.pk, t0 + timedelta(seconds=i / 5), image, 1280, 720, rotation=90))
        stage.step()
    assert set(detector.shapes) == {(W, H)}  # upright: taller than wide
    last = published.messages[-1][1]["objects"][0]
    assert last["box"] == pytest.approx([(40 + 50) / W, 60 / H, (160 + 50) / W, 100 / H], abs=0.01)
    event = camera.object_events.get()
    assert event.box == pytest.approx(
        [(40 + 10) / W, 60 / H, (160 + 10) / W, 100 / H], abs=0.01
    )  # its first tracked sighting


def test_the_capture_process_is_told_the_rotation_and_the_frame_size(camera, settings):

    settings.DETECTOR_FRAME_SIDE = 1920
    camera.rotation = 270
    camera.save()
    spec = camera_spec(camera)
    assert (spec.rotation, spec.frame_side) == (270, 1920)
