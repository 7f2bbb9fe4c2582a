"""Detections against the labels: mAP50 and, at a score threshold, per-class recall and
precision, with supervision's metrics (MeanAveragePrecision, ConfusionMatrix)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.accuracy.dataset import Photo

IOU = 0.5
# A prediction covering an ignored box by this share of its own area is neither right nor wrong.
IGNORE_IOA = 0.5


def as_detections(boxes, class_ids, scores=None):
    import supervision as sv

    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    return sv.Detections(
        xyxy=boxes,
        class_id=np.asarray(class_ids, int).reshape(-1),
        confidence=None if scores is None else np.asarray(scores, np.float32).reshape(-1),
    )


def predictions_for(photo: Photo, found, class_ids: list[int]):
    """A detector's answer for one photo (detection.backends.Detection, normalised boxes) as
    Detections in pixels, keeping the labelled classes and dropping those on ignored boxes."""
    from core.labels import COCO_CLASSES

    rows = [
        (
            (d.box[0] * photo.width, d.box[1] * photo.height, d.box[2] * photo.width, d.box[3] * photo.height),
            COCO_CLASSES.index(d.label),
            d.confidence,
        )
        for d in found
        if d.label in COCO_CLASSES and COCO_CLASSES.index(d.label) in class_ids
    ]
    rows = [r for r in rows if not _on_ignored(r[0], r[1], photo)]
    return as_detections([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def _on_ignored(box, class_id, photo: Photo) -> bool:
    x1, y1, x2, y2 = box
    area = max(1e-6, (x2 - x1) * (y2 - y1))
    for (ix1, iy1, ix2, iy2), cid in zip(photo.ignore_boxes, photo.ignore_ids, strict=True):
        if cid != class_id:
            continue
        w, h = min(x2, ix2) - max(x1, ix1), min(y2, iy2) - max(y1, iy1)
        if w > 0 and h > 0 and w * h / area >= IGNORE_IOA:
            return True
    return False


def targets_for(photo: Photo):
    return as_detections(photo.boxes, photo.class_ids)


@dataclass
class ClassCounts:
    found: int  # labelled objects matched by a prediction (true positives)
    labelled: int
    predicted: int

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else float("nan")

    @property
    def precision(self) -> float:
        return self.found / self.predicted if self.predicted else float("nan")


def map50(predictions, targets) -> float:
    from supervision.metrics import MeanAveragePrecision

    return float(MeanAveragePrecision().update(predictions, targets).compute().map50)


def counts_at(predictions, targets, class_ids: list[int], threshold: float) -> dict[int, ClassCounts]:
    """Per class: true positives, labelled objects and predictions at `threshold` (IoU 0.5)."""
    import supervision as sv

    # ConfusionMatrix wants class ids 0..n-1: map ours onto that range and back.
    index = {cid: i for i, cid in enumerate(class_ids)}

    def remap(d):
        return as_detections(d.xyxy, [index[int(c)] for c in d.class_id], d.confidence)

    matrix = sv.ConfusionMatrix.from_detections(
        predictions=[remap(p) for p in predictions],
        targets=[remap(t) for t in targets],
        classes=[str(c) for c in class_ids],
        conf_threshold=threshold,
        iou_threshold=IOU,
    ).matrix
    # Rows: labelled class (last row: nothing labelled there); columns: predicted class.
    return {
        cid: ClassCounts(found=int(matrix[i, i]), labelled=int(matrix[i, :].sum()), predicted=int(matrix[:, i].sum()))
        for cid, i in index.items()
    }


def pooled(counts: dict[int, ClassCounts], class_ids) -> ClassCounts:
    picked = [counts[c] for c in class_ids if c in counts]
    return ClassCounts(sum(c.found for c in picked), sum(c.labelled for c in picked), sum(c.predicted for c in picked))


def calibrate(predictions, targets, class_ids, *, precision: float, classes_that_matter) -> tuple[float, list]:
    """The lowest threshold (0.10-0.80, by 0.01) from which on the pooled precision of
    `classes_that_matter` stays at `precision` or above: the most found for the false alarms
    allowed, and not a lucky dip between two false alarms. Also the sweep, (threshold,
    recall, precision) per step."""
    sweep = []
    for step in range(10, 81):
        t = step / 100
        c = pooled(counts_at(predictions, targets, class_ids, t), classes_that_matter)
        sweep.append((t, c.recall, c.precision))
    chosen = 0.8
    for t, _, p in reversed(sweep):
        if p == p and p < precision:  # nan: nothing predicted from there on, no false alarm either
            break
        chosen = t
    return chosen, sweep
