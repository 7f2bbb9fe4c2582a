"""The motion gate: quiet on a static scene, firing on a moving object, with its region."""

from __future__ import annotations

import numpy as np
import pytest

from detection.motion import FULL_FRAME, Motion, MotionGate, motion_crop, region_pixels

W, H = 640, 360


def _scene(seed: int = 1) -> np.ndarray:
    """A textured static background (a wall with some structure)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=(H // 20, W // 20, 3), dtype=np.uint8)
    return np.kron(base, np.ones((20, 20, 1), dtype=np.uint8))


def _with_noise(image: np.ndarray, rng, sigma: float = 3.0) -> np.ndarray:
    """Sensor noise: every frame of a real static camera differs a little."""
    noisy = image.astype(np.int16) + rng.normal(0, sigma, image.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _with_box(image: np.ndarray, x: int, y: int, w: int = 60, h: int = 120) -> np.ndarray:
    out = image.copy()
    out[y : y + h, x : x + w] = (10, 240, 250)
    return out


def test_the_first_frame_is_sent_to_the_detector():
    motion = MotionGate().check(_scene())
    assert motion.moving and motion.reason == "first frame"


def test_a_static_noisy_scene_is_quiet():
    gate, rng, scene = MotionGate(), np.random.default_rng(7), _scene()
    gate.check(scene)
    results = [gate.check(_with_noise(scene, rng)) for _ in range(100)]
    assert not any(m.moving for m in results)
    assert gate.moving_frames == 1  # the first frame only


def test_a_moving_box_fires_and_its_region_covers_the_box():
    gate, rng, scene = MotionGate(), np.random.default_rng(3), _scene()
    for _ in range(10):
        gate.check(_with_noise(scene, rng))
    fired = []
    for step in range(20):
        x = 40 + step * 25
        motion = gate.check(_with_noise(_with_box(scene, x, 150), rng))
        fired.append(motion.moving)
        if motion.moving:
            bx1, by1, bx2, by2 = x / W, 150 / H, (x + 60) / W, 270 / H
            cx, cy = (bx1 + bx2) / 2, (by1 + by2) / 2
            # The box's centre lies in one of the moving regions.
            assert any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in motion.regions), (step, motion)
            union = motion.union(pad=0.0)
            assert union[0] <= bx1 + 0.02 and union[2] >= bx2 - 0.02
    assert all(fired)


def test_a_tiny_change_is_below_the_minimum_area():
    gate, scene = MotionGate(min_area=0.002), _scene()
    gate.check(scene)
    assert not gate.check(_with_box(scene, 300, 100, w=4, h=4)).moving  # a flickering LED
    assert gate.check(_with_box(scene, 300, 100, w=40, h=40)).moving


def test_an_object_that_stops_melts_into_the_background():
    gate, scene = MotionGate(alpha=0.2), _scene()
    gate.check(scene)
    parked = _with_box(scene, 200, 100)
    results = [gate.check(parked).moving for _ in range(60)]
    assert results[0] is True
    assert results[-10:] == [False] * 10


def test_a_lighting_switch_restarts_the_background_and_counts_once():
    gate, scene = MotionGate(), _scene()
    gate.check(scene)
    dark = (scene // 3).astype(np.uint8)  # infrared mode at dusk
    first = gate.check(dark)
    assert first.moving and first.reason == "scene changed"
    assert not gate.check(dark).moving


def test_a_new_frame_size_restarts_the_background():
    gate = MotionGate()
    gate.check(_scene())
    assert gate.check(np.zeros((480, 640, 3), np.uint8)).reason == "first frame"


@pytest.mark.parametrize("options", [{"width": 8}, {"threshold": 0}, {"min_area": 1.5}, {"alpha": 0}])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        MotionGate(**options)


def test_a_small_moving_region_is_cropped_with_context_and_stays_in_the_frame():
    crop = motion_crop(Motion(True, [(0.50, 0.50, 0.55, 0.60)]), min_side=0.4)
    x1, y1, x2, y2 = crop
    assert x2 - x1 == pytest.approx(0.4) and y2 - y1 == pytest.approx(0.4)
    assert x1 <= 0.50 and x2 >= 0.55 and y1 <= 0.50 and y2 >= 0.60
    # Near an edge the crop slides back inside instead of shrinking.
    x1, y1, x2, y2 = motion_crop(Motion(True, [(0.97, 0.0, 1.0, 0.05)]), min_side=0.4)
    assert (x1, y1) == (pytest.approx(0.6), 0.0) and (x2, y2) == (pytest.approx(1.0), pytest.approx(0.4))


def test_a_crop_covering_most_of_the_frame_is_the_whole_frame():
    motion = Motion(True, [(0.0, 0.0, 0.3, 0.9), (0.6, 0.1, 1.0, 1.0)])
    assert motion_crop(motion, max_area=0.5) == FULL_FRAME
    assert motion_crop(Motion(False), max_area=0.5) == FULL_FRAME


def test_region_pixels_are_never_empty():
    assert region_pixels((0.25, 0.5, 0.75, 1.0), 320, 180) == (80, 90, 240, 180)
    assert region_pixels((0.5, 0.5, 0.5, 0.5), 320, 180) == (160, 90, 161, 91)
