"""Quality gates refuse small, blurred, dark and overexposed faces and pass clear ones."""

from __future__ import annotations

import cv2

from attendance.recognition.quality import QualityGates, Refusal
from tests.attendance.faces import PEOPLE, blurred, darkened, photo

GATES = QualityGates(min_face_px=40, min_sharpness=20.0, min_brightness=40.0, max_brightness=225.0)


def face_box(backend, image):
    faces = backend.detect(image)
    assert len(faces) == 1
    return faces[0].box


def test_clear_portraits_pass(face_backend):
    for name in PEOPLE:
        image = photo(name)
        refusal, score = GATES.check(image, face_box(face_backend, image))
        assert refusal is None and score > 20, name


def test_a_blurred_face_is_gated_out(face_backend):
    for name in PEOPLE:
        image = photo(name)
        box = face_box(face_backend, image)
        assert GATES.check(blurred(image), box)[0] == Refusal.TOO_BLURRED, name


def test_a_dark_face_is_gated_out(face_backend):
    for name in PEOPLE:
        image = photo(name)
        box = face_box(face_backend, image)
        assert GATES.check(darkened(image), box)[0] == Refusal.TOO_DARK, name


def test_an_overexposed_face_is_gated_out(face_backend):
    image = photo("hopper")
    box = face_box(face_backend, image)
    assert GATES.check(cv2.convertScaleAbs(image, alpha=3.0, beta=120), box)[0] == Refusal.TOO_BRIGHT


def test_a_face_smaller_than_the_minimum_is_gated_out(face_backend):
    image = photo("hopper")
    box = face_box(face_backend, image)
    width = box[2] - box[0]
    assert GATES.check(image, box)[0] is None
    strict = QualityGates(min_face_px=int(width) + 1)
    assert strict.check(image, box)[0] == Refusal.TOO_SMALL
