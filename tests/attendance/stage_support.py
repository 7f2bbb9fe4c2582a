"""Driving the recognition stage frame by frame on a hand-moved clock."""

from __future__ import annotations

from cameras.frames import Frame
from tests.attendance.faces import on_canvas


def frame_of(camera_id: int, at, face_image, **placement) -> Frame:
    image = on_canvas(face_image, **placement)
    return Frame(camera_id=camera_id, captured_at=at, image=image, source_width=640, source_height=480)


def feed(stage, clock, camera_id: int, face_image, *, seconds: float, fps: float = 5.0, **placement) -> list:
    """Show `face_image` (None: an empty scene) to the stage for `seconds` at `fps`."""
    results = []
    for _ in range(int(round(seconds * fps))):
        results.append(stage.process(frame_of(camera_id, clock(), face_image, **placement)))
        stage.tick()
        clock.advance(1.0 / fps)
    return results
