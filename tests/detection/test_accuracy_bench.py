"""bench/accuracy's labelled set and its scoring: the splits stay apart, every box is inside
its photo, and the counts are supervision's (checked on boxes whose answer is known)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.accuracy import dataset, scoring
from core.labels import COCO_CLASSES
from detection.backends import Detection

PERSON, CAR = COCO_CLASSES.index("person"), COCO_CLASSES.index("car")


@pytest.fixture(scope="module")
def splits():
    return {name: dataset.load(name) for name in dataset.SPLITS}


def test_the_splits_share_no_photo_and_every_box_is_inside_its_photo(splits):
    names = {name: {p.file.name for p in photos} for name, photos in splits.items()}
    assert not names["calibration"] & names["evaluation"]
    # Frames of one video stay in one split (the evaluation is held out).
    videos = {name: {n.rsplit("_", 1)[0] for n in files if n.startswith("intel_")} for name, files in names.items()}
    assert not videos["calibration"] & videos["evaluation"]
    for photo in splits["calibration"] + splits["evaluation"]:
        assert photo.file.is_file()
        for x1, y1, x2, y2 in np.concatenate([photo.boxes, photo.ignore_boxes]):
            assert 0 <= x1 < x2 <= photo.width and 0 <= y1 < y2 <= photo.height, photo.file.name
    people = sum(int((p.class_ids == PERSON).sum()) for p in splits["evaluation"])
    assert people >= 30  # enough to say something about people


def test_counts_at_a_threshold_match_boxes_whose_answer_is_known():
    photo = dataset.Photo(
        file=None, width=100, height=100, tags=(),
        boxes=np.array([[0, 0, 10, 20], [50, 50, 60, 70], [80, 10, 99, 20]], np.float32),
        class_ids=np.array([PERSON, PERSON, CAR]),
        ignore_boxes=np.array([[30, 30, 40, 40]], np.float32), ignore_ids=np.array([PERSON]),
    )  # fmt: skip
    found = [
        Detection("person", 0.9, (0.0, 0.0, 0.1, 0.2)),  # right
        Detection("person", 0.2, (0.5, 0.5, 0.6, 0.7)),  # right, but under 0.5
        Detection("person", 0.8, (0.3, 0.3, 0.4, 0.4)),  # on an ignored box: neither way
        Detection("person", 0.7, (0.8, 0.8, 0.9, 0.9)),  # a false alarm
        Detection("dog", 0.9, (0.1, 0.1, 0.2, 0.2)),  # a class not labelled here: not scored
    ]
    predictions = [scoring.predictions_for(photo, found, [PERSON, CAR])]
    targets = [scoring.targets_for(photo)]
    at_half = scoring.counts_at(predictions, targets, [PERSON, CAR], 0.5)
    assert (at_half[PERSON].found, at_half[PERSON].labelled, at_half[PERSON].predicted) == (1, 2, 2)
    assert (at_half[CAR].found, at_half[CAR].labelled, at_half[CAR].predicted) == (0, 1, 0)
    low = scoring.counts_at(predictions, targets, [PERSON, CAR], 0.1)[PERSON]
    assert (low.found, low.predicted) == (2, 3)
    chosen, sweep = scoring.calibrate(
        predictions, targets, [PERSON, CAR], precision=0.9, classes_that_matter=[PERSON, CAR]
    )
    assert chosen == 0.71  # above the false alarm at 0.7, precision stays 1.0
    assert 0 < scoring.map50(predictions, targets) < 1
