"""Synthetic scenes of two object classes, "person" and "car", drawn with OpenCV.

The tiny YOLO in tests/detection/weights/ was trained on these scenes by
scripts/train_tiny_yolo.py, and the tests draw their clips with the same code, so the real
ultralytics path can be checked end to end without any downloaded weights or photos.

A person is a head over a torso and two legs (tall); a car is a body, a cabin with windows
and two wheels (wide). Scenes also hold unlabelled distractors (discs, triangles, squares)
so the model learns the shapes and not "anything that is not background".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("person", "car")


@dataclass(frozen=True)
class Thing:
    """An object to draw: its label, its top-left corner and size in pixels, its colour (BGR)."""

    label: str
    x: int
    y: int
    w: int
    h: int
    colour: tuple[int, int, int]

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.w, self.y + self.h


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A low-contrast textured background: a vertical gradient, a few faint bands and noise."""
    top = rng.integers(40, 200, size=3)
    bottom = rng.integers(40, 200, size=3)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = (top * (1 - ramp) + bottom * ramp).repeat(width, axis=1)
    for _ in range(int(rng.integers(0, 4))):
        y = int(rng.integers(0, height))
        band = int(rng.integers(4, max(5, height // 6)))
        image[y : y + band] += rng.integers(-25, 26, size=3)
    image += rng.normal(0.0, 6.0, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_person(image: np.ndarray, thing: Thing, skin: tuple[int, int, int] = (120, 160, 215)) -> None:
    x, y, w, h = thing.x, thing.y, thing.w, thing.h
    head = max(2, int(w * 0.36))
    cx = x + w // 2
    cv2.circle(image, (cx, y + head), head, skin, -1, cv2.LINE_AA)
    torso_top, torso_bottom = y + 2 * head, y + int(h * 0.6)
    cv2.rectangle(image, (x, torso_top), (x + w - 1, torso_bottom), thing.colour, -1)
    legs = tuple(int(c * 0.5) for c in thing.colour)
    leg_w = max(1, w // 3)
    cv2.rectangle(image, (x + w // 10, torso_bottom), (x + w // 10 + leg_w, y + h - 1), legs, -1)
    cv2.rectangle(image, (x + w - w // 10 - leg_w, torso_bottom), (x + w - w // 10, y + h - 1), legs, -1)


def draw_car(image: np.ndarray, thing: Thing) -> None:
    x, y, w, h = thing.x, thing.y, thing.w, thing.h
    wheel = max(2, int(h * 0.22))
    body_top, body_bottom = y + int(h * 0.42), y + h - wheel
    cv2.rectangle(image, (x, body_top), (x + w - 1, body_bottom), thing.colour, -1)
    cabin = np.array(
        [(x + int(w * 0.22), body_top), (x + int(w * 0.32), y), (x + int(w * 0.70), y), (x + int(w * 0.82), body_top)],
        dtype=np.int32,
    )
    cv2.fillPoly(image, [cabin], thing.colour, cv2.LINE_AA)
    glass = (230, 200, 150)
    inset = max(1, h // 10)
    cv2.rectangle(image, (x + int(w * 0.33), y + inset), (x + int(w * 0.49), body_top - 1), glass, -1)
    cv2.rectangle(image, (x + int(w * 0.53), y + inset), (x + int(w * 0.69), body_top - 1), glass, -1)
    for wx in (x + int(w * 0.22), x + int(w * 0.78)):
        cv2.circle(image, (wx, y + h - wheel), wheel, (25, 25, 25), -1, cv2.LINE_AA)


def draw_distractor(image: np.ndarray, rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    size = int(rng.integers(max(6, height // 16), max(8, height // 4)))
    x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size))
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        cv2.circle(image, (x + size // 2, y + size // 2), size // 2, colour, -1, cv2.LINE_AA)
    elif kind == 1:
        pts = np.array([(x, y + size), (x + size // 2, y), (x + size, y + size)], dtype=np.int32)
        cv2.fillPoly(image, [pts], colour, cv2.LINE_AA)
    else:
        cv2.rectangle(image, (x, y), (x + size, y + size), colour, -1)


def draw(image: np.ndarray, things: list[Thing]) -> np.ndarray:
    for thing in things:
        (draw_person if thing.label == "person" else draw_car)(image, thing)
    return image


def random_thing(rng: np.random.Generator, label: str, width: int, height: int) -> Thing:
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    if label == "person":
        h = int(height * rng.uniform(0.25, 0.7))
        w = max(4, int(h * rng.uniform(0.3, 0.42)))
    else:
        w = int(width * rng.uniform(0.2, 0.55))
        h = max(4, int(w * rng.uniform(0.38, 0.52)))
    x = int(rng.integers(0, max(1, width - w)))
    y = int(rng.integers(0, max(1, height - h)))
    return Thing(label, x, y, w, h, colour)


def overlap(a: Thing, b: Thing) -> float:
    """Intersection over the smaller box."""
    ax1, ay1, ax2, ay2 = a.box
    bx1, by1, bx2, by2 = b.box
    iw, ih = max(0, min(ax2, bx2) - max(ax1, bx1)), max(0, min(ay2, by2) - max(ay1, by1))
    return iw * ih / max(1, min(a.w * a.h, b.w * b.h))


def random_scene(rng: np.random.Generator, width: int = 320, height: int = 240) -> tuple[np.ndarray, list[Thing]]:
    """A training image (BGR) and the objects in it, in drawing order (later ones on top)."""
    image = background(rng, width, height)
    for _ in range(int(rng.integers(0, 4))):
        draw_distractor(image, rng)
    things: list[Thing] = []
    for _ in range(int(rng.integers(1, 5))):
        candidate = random_thing(rng, CLASSES[int(rng.integers(0, 2))], width, height)
        if all(overlap(candidate, t) < 0.3 for t in things):
            things.append(candidate)
    return draw(image, things), things


def yolo_labels(things: list[Thing], width: int, height: int) -> str:
    """The objects as YOLO label lines: class cx cy w h, normalised."""
    lines = []
    for t in things:
        cx, cy = (t.x + t.w / 2) / width, (t.y + t.h / 2) / height
        lines.append(f"{CLASSES.index(t.label)} {cx:.6f} {cy:.6f} {t.w / width:.6f} {t.h / height:.6f}")
    return "\n".join(lines) + ("\n" if lines else "")


# -- clips ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Walker:
    """An object crossing the frame at constant speed between `enter` and `leave` seconds."""

    label: str
    enter: float
    leave: float
    y: float  # top, as a fraction of the height
    size: float  # person: height / frame height; car: width / frame width
    colour: tuple[int, int, int]
    leftwards: bool = False

    def thing_at(self, t: float, width: int, height: int) -> Thing | None:
        if not self.enter <= t < self.leave:
            return None
        if self.label == "person":
            h = int(height * self.size)
            w = int(h * 0.36)
        else:
            w = int(width * self.size)
            h = int(w * 0.45)
        progress = (t - self.enter) / (self.leave - self.enter)
        if self.leftwards:
            progress = 1 - progress
        x = int((width - w) * progress)
        return Thing(self.label, x, int(height * self.y), w, h, self.colour)


# A person walks right across, then a car drives left across, with a gap between them.
DEFAULT_WALKERS = (
    Walker("person", 0.5, 3.5, 0.2, 0.55, (160, 60, 40)),
    Walker("car", 4.5, 7.5, 0.45, 0.4, (40, 40, 200), leftwards=True),
)


def scene_frames(
    seconds: float, fps: int, width: int = 320, height: int = 240, walkers=DEFAULT_WALKERS, seed: int = 11
) -> Iterator[tuple[float, np.ndarray, list[Thing]]]:
    """(t, BGR frame, objects in view) for a clip with a fixed background and `walkers`."""
    rng = np.random.default_rng(seed)
    still = background(rng, width, height)
    for i in range(int(seconds * fps)):
        t = i / fps
        things = [thing for w in walkers if (thing := w.thing_at(t, width, height)) is not None]
        yield t, draw(still.copy(), things), things


def make_scene_clip(
    path: Path,
    *,
    seconds: float = 8.0,
    fps: int = 10,
    gop: int = 10,
    width: int = 320,
    height: int = 240,
    walkers=DEFAULT_WALKERS,
) -> Path:
    """An H.264 MP4 of `scene_frames` with a keyframe every `gop` frames."""
    import av

    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=Fraction(fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = gop
        video.options = {"preset": "ultrafast", "bf": "0", "sc_threshold": "0", "keyint_min": str(gop)}
        for _, image, _ in scene_frames(seconds, fps, width, height, walkers):
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path
