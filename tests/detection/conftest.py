"""Fixtures for the detection tests: real photos and one loaded default detector."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest


def _ultralytics_asset(name: str) -> Path:
    # find_spec locates the package without importing it (and torch with it).
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.origin, "ultralytics is a dependency (requirements/base.txt)"
    return Path(spec.origin).parent / "assets" / name


@pytest.fixture(scope="session")
def bus_photo() -> np.ndarray:
    """ultralytics' bus.jpg (810x1080): people standing in front of a bus."""
    image = cv2.imread(str(_ultralytics_asset("bus.jpg")))
    assert image is not None
    return image


@pytest.fixture(scope="session")
def street_photo_without_people(bus_photo) -> np.ndarray:
    """The top of bus.jpg, above everyone's head: a street and the bus, nobody in it."""
    return np.ascontiguousarray(bus_photo[:380])


@pytest.fixture(scope="session")
def onnx_detector():
    """The out-of-the-box detector, loaded once for the whole run (loading costs ~0.3 s)."""
    from detection.backends import create_detector

    detector = create_detector("onnx", precision="fp32", confidence=0.25, device="cpu", threads=1)
    detector.load()
    return detector
