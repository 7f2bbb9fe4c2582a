"""How well the detectors find what a security camera is for, on labelled photos.

    python -m bench.accuracy                       # the bundled model, its configurations
    python -m bench.accuracy --calibrate           # + the threshold sweep on the calibration split
    python -m bench.accuracy --model yolo11n.onnx  # + a model of MODELS_DIR, side by side
    python -m bench.accuracy --crops               # + each configuration with motion crops

Per configuration (backend, model, input size, precision): mAP50 over the labelled classes,
and recall / precision of people and cars, per photo, at the model's calibrated event
threshold (core/model_scores.py) and at 0.5, every camera's threshold before
models declared theirs. Calibration uses the calibration split only; every figure printed
for the defaults is on the evaluation split, which tuning never sees.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench.accuracy import dataset, scoring

FLOOR = 0.05  # the detector keeps nearly everything; thresholds are applied afterwards
OLD_DEFAULT = 0.5
PRECISION_TARGET = 0.92  # calibration aims above the 0.90 the evaluation must show


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="sweep thresholds on the calibration split")
    parser.add_argument(
        "--write", action="store_true", help="with --calibrate: save each --model's values beside it (.scores.json)"
    )
    parser.add_argument(
        "--sizes", default="384,512,640", help="input sizes of the bundled model (default: %(default)s)"
    )
    parser.add_argument("--model", action="append", default=[], help="another model (MODELS_DIR name or path)")
    parser.add_argument("--backend", default="onnx", help="backend of --model (onnx or ultralytics)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--crops",
        action="store_true",
        help="also run each configuration as DETECTOR_MOTION_CROP would if every labelled object moved",
    )
    return parser.parse_args()


def configurations(args) -> list[dict]:
    configs = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        configs.append({"name": f"bundled int8 {size}", "backend": "onnx", "precision": "int8", "input_size": size})
    configs.append({"name": "bundled fp32 512", "backend": "onnx", "precision": "fp32", "input_size": 512})
    for model in args.model:
        configs.append({"name": os.path.basename(model), "backend": args.backend, "model": model})
    if args.crops:
        configs += [{**c, "name": f"{c['name']} crops", "crops": True} for c in configs]
    return configs


def models_dir() -> str:
    """MODELS_DIR as AINVR's settings default it (DATA_DIR/models, DATA_DIR ./data)."""
    return os.environ.get("MODELS_DIR") or os.path.join(os.environ.get("DATA_DIR") or "data", "models")


def detect_all(config: dict, photos, threads: int):
    import cv2

    from detection.backends import create_detector

    options = {k: v for k, v in config.items() if k not in ("name", "backend", "crops")}
    if config["backend"] == "onnx":
        options["threads"] = threads
    options["models_dir"] = models_dir()
    detector = create_detector(config["backend"], confidence=FLOOR, **options)
    detector.load()
    started = time.perf_counter()
    if config.get("crops"):
        found = [detect_in_crops(detector, cv2.imread(str(p.file)), p) for p in photos]
    else:
        found = [detector.detect([cv2.imread(str(p.file))])[0] for p in photos]
    return found, (time.perf_counter() - started) * 1000 / max(1, len(photos))


def detect_in_crops(detector, image, photo):
    """What the live stage finds with motion crops in a frame where every labelled object
    (ignored ones too) moves: the motion regions are the labelled boxes, so the crops are
    chosen as the motion gate would place them; a photo with no box is looked at whole (as a
    frame where nothing local moves). This flatters precision (no crop lands on empty scenery)
    and measures recall given motion."""
    from datetime import UTC, datetime

    from cameras.frames import Frame
    from detection.look import Look, crop_side
    from detection.motion import FULL_FRAME, Motion, motion_crops

    height, width = image.shape[:2]
    boxes = np.concatenate([photo.boxes, photo.ignore_boxes]) / [width, height, width, height]
    regions = (FULL_FRAME,)
    if len(boxes):
        motion = Motion(True, [tuple(float(v) for v in b) for b in boxes], 0.0, "motion")
        regions = motion_crops(motion, width, height, side=crop_side(detector))
    look = Look(Frame(0, datetime.now(UTC), image, width, height), regions)
    return look.to_frame(detector.detect(look.images()))


def write_scores(model: str, threshold: float) -> str:
    """Save a model's calibrated values where core/model_scores.py reads them."""
    import json
    from pathlib import Path

    from core.model_scores import sidecar_path

    path = Path(model).expanduser()
    if not path.is_absolute():
        path = Path(models_dir()) / model
    # Tracks start a third under the threshold: weak sightings keep an id, the median decides.
    values = {"min_score": round(max(0.1, threshold * 2 / 3), 2), "threshold": threshold}
    values["basis"] = f"calibrated on bench/accuracy's calibration split, precision >= {PRECISION_TARGET}"
    sidecar_path(path).write_text(json.dumps(values, indent=2) + "\n")
    return str(sidecar_path(path))


def fmt(value: float) -> str:
    return "  -  " if value != value else f"{value:.2f}"


def main() -> int:
    args = parse_args()
    from core.labels import COCO_CLASSES
    from core.model_scores import score_defaults

    splits = {name: dataset.load(name) for name in dataset.SPLITS}
    every = splits["calibration"] + splits["evaluation"]
    class_ids = dataset.classes_in(every)
    matter = [COCO_CLASSES.index("person"), COCO_CLASSES.index("car")]
    evaluation = splits["evaluation"]
    targets = {name: [scoring.targets_for(p) for p in photos] for name, photos in splits.items()}
    print(
        f"labelled set: {len(splits['calibration'])} calibration + {len(evaluation)} evaluation photos; "
        f"classes {', '.join(COCO_CLASSES[c] for c in class_ids)}"
    )
    rows = []
    for config in configurations(args):
        defaults = score_defaults(config["backend"], config.get("model", ""), models_dir())
        found, ms = detect_all(config, every, args.threads)
        preds = [scoring.predictions_for(p, f, class_ids) for p, f in zip(every, found, strict=True)]
        by_split = {
            "calibration": preds[: len(splits["calibration"])],
            "evaluation": preds[len(splits["calibration"]) :],
        }
        ev, ev_targets = by_split["evaluation"], targets["evaluation"]
        at_default = scoring.counts_at(ev, ev_targets, class_ids, defaults.threshold)
        at_old = scoring.counts_at(ev, ev_targets, class_ids, OLD_DEFAULT)
        rows.append((config, defaults, ms, scoring.map50(ev, ev_targets), at_default, at_old))
        if args.calibrate:
            chosen, sweep = scoring.calibrate(
                by_split["calibration"],
                targets["calibration"],
                class_ids,
                precision=PRECISION_TARGET,
                classes_that_matter=matter,
            )
            held_out = scoring.pooled(scoring.counts_at(ev, ev_targets, class_ids, chosen), matter)
            print(f"\n{config['name']}: calibration sweep (people and cars pooled, calibration split)")
            print("threshold  recall  precision")
            for t, r, p in sweep[::5]:
                print(f"  {t:.2f}      {fmt(r)}    {fmt(p)}")
            print(
                f"  -> threshold {chosen:.2f} (lowest with precision >= {PRECISION_TARGET}); on the evaluation split: "
                f"recall {fmt(held_out.recall)}, precision {fmt(held_out.precision)}"
            )
            if args.write and config.get("model"):
                print(f"  wrote {write_scores(config['model'], chosen)}")

    person, car = matter
    print("\nEvaluation split (held out), per photo, IoU 0.5; R/P = recall/precision")
    header = (
        f"{'configuration':<22} {'ms/photo':>8} {'mAP50':>6} {'thr':>5} | {'person R/P':>11} {'car R/P':>11} "
        f"{'both R/P':>11} | {'at 0.5: both R/P':>16}"
    )
    print(header)
    print("-" * len(header))
    for config, defaults, ms, m50, at_default, at_old in rows:
        both, old = scoring.pooled(at_default, matter), scoring.pooled(at_old, matter)
        print(
            f"{config['name']:<22} {ms:>8.0f} {m50:>6.3f} {defaults.threshold:>5.2f} | "
            f"{fmt(at_default[person].recall)}/{fmt(at_default[person].precision):<6} "
            f"{fmt(at_default[car].recall)}/{fmt(at_default[car].precision):<6} "
            f"{fmt(both.recall)}/{fmt(both.precision):<6} | {fmt(old.recall):>9}/{fmt(old.precision)}"
        )
    # The live default (int8 at 512 on a CPU) when it was measured.
    config, defaults, *_ = next((r for r in rows if r[0]["name"] == "bundled int8 512"), rows[0])
    print(f"\nPeople by kind of scene (evaluation split, {config['name']}, at its threshold):")
    found, _ = detect_all(config, evaluation, args.threads)
    tags = sorted({t for p in evaluation for t in p.tags})
    for tag in tags:
        picked = [i for i, p in enumerate(evaluation) if tag in p.tags]
        preds = [scoring.predictions_for(evaluation[i], found[i], class_ids) for i in picked]
        c = scoring.counts_at(preds, [targets["evaluation"][i] for i in picked], class_ids, defaults.threshold)
        people = c[person]
        print(
            f"  {tag:<12} {len(picked):>3} photos, {people.labelled:>3} people: recall {fmt(people.recall)}, "
            f"precision {fmt(people.precision)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
