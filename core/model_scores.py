"""Each model's calibrated score defaults: what its numbers mean.

Detectors do not share a score scale: the bundled CenterNet gives a plain person 0.3-0.5
where a YOLO gives 0.7-0.9, so one threshold for every model either misses most people
with one or floods the other with false alarms. Each model declares two numbers, measured
on the labelled calibration set (bench/accuracy, `python -m bench.accuracy --calibrate`):

- ``min_score``: the per-frame minimum; boxes from here on are candidates, fed to the
  tracker (a weak sighting keeps an id through a turn or a partial occlusion);
- ``threshold``: the event threshold; a track becomes a real object (an event, an alert
  candidate, a box on the live grid) when the median of its scores reaches it (see
  detection.track_events).

Pure data: imported by the web process (the camera form explains the numbers) and the
inference process alike.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("detection.backends")


@dataclass(frozen=True)
class ScoreDefaults:
    min_score: float
    threshold: float
    # What the numbers were measured on, shown to admins beside them.
    basis: str = ""

    def __post_init__(self):
        if not 0.0 <= self.min_score <= self.threshold <= 1.0:
            raise ValueError(f"need 0 <= min_score <= threshold <= 1, got {self.min_score}, {self.threshold}")


# The bundled CenterNet. Its calibration split's point of stable precision is 0.16, but a camera
# timestamp banner already scores 0.16 as a person there, and a still false object on a live
# camera is a permanent event: the threshold keeps a margin above that (bench/README.md).
BUNDLED = ScoreDefaults(
    min_score=0.15,
    threshold=0.25,
    basis="the bundled CenterNet, calibrated with bench/accuracy",
)
# A model nobody calibrated: ultralytics' own defaults for YOLO (predict conf 0.25; 0.5 is
# where its models' precision on COCO passes 0.9).
UNCALIBRATED = ScoreDefaults(min_score=0.25, threshold=0.5, basis="not calibrated: YOLO's usual values")

BUNDLED_NAMES = frozenset(
    {
        "",
        "coco-centernet-mbv3.onnx",
        "coco-centernet-mbv3-int8.onnx",
        "coco-centernet-mbv3-512.onnx",
        "coco-centernet-mbv3-512-int8.onnx",
    }
)
# A model's own calibration, beside the model file in MODELS_DIR: <model>.scores.json with
# {"min_score": ..., "threshold": ..., "basis": ...} (written by the model import command).
SIDECAR_SUFFIX = ".scores.json"


def sidecar_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


def score_defaults(backend: str, model: str = "", models_dir: Path | str | None = None) -> ScoreDefaults:
    """The score defaults of the model `backend` runs with `model` (a DETECTOR_MODEL value)."""
    name = (model or "").strip()
    if backend == "onnx" and name in BUNDLED_NAMES:
        return BUNDLED
    if name:
        candidate = Path(name).expanduser()
        if not candidate.is_absolute() and models_dir is not None:
            candidate = Path(models_dir) / name
        sidecar = sidecar_path(candidate)
        if sidecar.is_file():
            try:
                data = json.loads(sidecar.read_text())
                return ScoreDefaults(float(data["min_score"]), float(data["threshold"]), str(data.get("basis", "")))
            except (OSError, ValueError, KeyError, TypeError) as e:
                logger.warning("%s: unreadable score calibration (%s); using uncalibrated defaults", sidecar, e)
    return UNCALIBRATED


def model_score_defaults() -> ScoreDefaults:
    """The calibrated score defaults of the model the DETECTOR_* settings select."""
    return score_defaults(settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL, settings.MODELS_DIR)
