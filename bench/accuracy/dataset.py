"""The labelled photos of bench/accuracy/data (COCO json), as supervision Detections.

Class ids are indexes into core.labels.COCO_CLASSES (the detectors' own order), so
predictions and targets compare by id. Boxes marked ``"ignore": 1`` (ambiguous, mostly
hidden, tiny) count neither way: they are not to be found, and a prediction on one is not
a false alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
SPLITS = ("calibration", "evaluation")


@dataclass
class Photo:
    file: Path
    width: int
    height: int
    tags: tuple[str, ...]
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2 in pixels
    class_ids: np.ndarray  # (N,) indexes into COCO_CLASSES
    ignore_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    ignore_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


def load(split: str, data: Path = DATA) -> list[Photo]:
    from core.labels import COCO_CLASSES

    path = data / f"{split}.json"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: the labelled set lives in bench/accuracy/data")
    coco = json.loads(path.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    unknown = set(names.values()) - set(COCO_CLASSES)
    if unknown:
        raise SystemExit(f"{path}: categories the detectors do not know: {sorted(unknown)}")
    by_image: dict[int, list[dict]] = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    photos = []
    for image in coco["images"]:
        kept, ignored = [], []
        for a in by_image.get(image["id"], []):
            x, y, w, h = a["bbox"]
            row = ([x, y, x + w, y + h], COCO_CLASSES.index(names[a["category_id"]]))
            (ignored if a.get("ignore") or a.get("iscrowd") else kept).append(row)
        photos.append(
            Photo(
                file=data / "images" / image["file_name"],
                width=image["width"],
                height=image["height"],
                tags=tuple(image.get("tags", ())),
                boxes=np.array([b for b, _ in kept], np.float32).reshape(-1, 4),
                class_ids=np.array([c for _, c in kept], int),
                ignore_boxes=np.array([b for b, _ in ignored], np.float32).reshape(-1, 4),
                ignore_ids=np.array([c for _, c in ignored], int),
            )
        )
    return photos


def classes_in(photos: list[Photo]) -> list[int]:
    """The class ids labelled in these photos (ignored boxes included)."""
    ids: set[int] = set()
    for p in photos:
        ids.update(int(c) for c in p.class_ids)
        ids.update(int(c) for c in p.ignore_ids)
    return sorted(ids)
