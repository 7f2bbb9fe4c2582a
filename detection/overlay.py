"""The live overlay message: what the detector saw in one frame, as browsers draw it."""

from __future__ import annotations


def detections_payload(
    *, captured_at: float, objects: list[dict], inference_ms: float | None, width: int, height: int
) -> dict:
    """The overlay message for one analysed frame, as the browser gets it (type "detections").

    captured_at: wall-clock Unix seconds of the frame (compare with the init's epoch);
    objects: [{"label", "confidence", "box": [x1, y1, x2, y2] normalised 0..1, "track_id"}];
    width/height: the frame the boxes are relative to."""
    return {
        "captured_at": captured_at,
        "objects": objects,
        "inference_ms": inference_ms,
        "width": width,
        "height": height,
    }
