"""A camera mounted on its side (corridor mode): faces are looked for upright."""

from __future__ import annotations

import cv2

from attendance.recognition.backend import roster_matcher_for
from attendance.recognition.stage import RecognitionStage
from cameras.frames import Frame
from tests.attendance.faces import on_canvas, photo


def test_faces_of_a_sideways_camera_are_found_once_the_camera_says_so(face_backend, clock, camera):
    stage = RecognitionStage(backend=face_backend, matcher=roster_matcher_for(face_backend, threshold=0.4), clock=clock)
    sideways = cv2.rotate(on_canvas(photo("hopper")), cv2.ROTATE_90_COUNTERCLOCKWISE)
    # As the camera sends it (mounted on its side), nobody is found...
    assert stage.process(Frame(camera.pk, clock(), sideways, 480, 640)) == []
    # ...turned upright (rotation 90: clockwise), the face is.
    (face,) = stage.process(Frame(camera.pk, clock(), sideways, 480, 640, rotation=90))
    assert face.refusal is None
