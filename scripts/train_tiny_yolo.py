#!/usr/bin/env python
"""Train the tiny YOLOv8n that the tests use: synthetic shapes labelled person/car, 160 px, CPU.

    python scripts/train_tiny_yolo.py [--epochs 60] [--out tests/detection/weights/tiny-shapes-yolov8n.pt]

The model is built from ultralytics' yolov8n.yaml (no pretrained weights), the images are
drawn by tests/detection/shapes.py with a fixed seed, and nothing is downloaded: the
ultralytics offline switches are set before it is imported, AMP checks (which fetch
yolo11n.pt) and plots (which fetch Arial.ttf) are off. Writes the weights and, next to them, a
JSON record of how they were made (epochs, seconds, mAP50, versions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "detection" / "weights" / "tiny-shapes-yolov8n.pt"


def offline_environment(config_dir: Path) -> None:
    """Must run before ultralytics is imported: it reads these at import time."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)


def write_dataset(root: Path, train: int, val: int, seed: int) -> Path:
    import cv2
    import numpy as np

    sys.path.insert(0, str(REPO))
    from tests.detection.shapes import CLASSES, random_scene, yolo_labels

    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(count):
            # Mostly 4:3, some 16:9, as cameras send.
            width, height = (320, 240) if rng.random() < 0.7 else (320, 180)
            image, things = random_scene(rng, width, height)
            cv2.imwrite(str(root / "images" / split / f"{i:05d}.png"), image)
            (root / "labels" / split / f"{i:05d}.txt").write_text(yolo_labels(things, width, height))
    data = root / "shapes.yaml"
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--train-images", type=int, default=400)
    parser.add_argument("--val-images", type=int, default=80)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="tiny-yolo-"))
    try:
        offline_environment(work / "ultralytics-config")
        data = write_dataset(work / "data", args.train_images, args.val_images, args.seed)

        import torch
        import ultralytics
        from ultralytics import YOLO

        random.seed(args.seed)
        torch.manual_seed(args.seed)
        model = YOLO("yolov8n.yaml")  # architecture only: nothing to download
        began = time.monotonic()
        model.train(
            data=str(data),
            epochs=args.epochs,
            imgsz=args.imgsz,
            batch=args.batch,
            device="cpu",
            workers=0,
            seed=args.seed,
            deterministic=True,
            amp=False,  # the AMP check downloads yolo11n.pt
            plots=False,  # plots download Arial.ttf
            pretrained=False,
            project=str(work / "runs"),
            name="tiny",
            exist_ok=True,
            verbose=False,
            val=True,
        )
        seconds = time.monotonic() - began
        best = work / "runs" / "tiny" / "weights" / "best.pt"
        metrics = YOLO(str(best)).val(
            data=str(data), imgsz=args.imgsz, batch=args.batch, device="cpu", plots=False, workers=0, verbose=False
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(best, args.out)
        record = {
            "weights": args.out.name,
            "classes": ["person", "car"],
            "architecture": "yolov8n.yaml (no pretrained weights)",
            "imgsz": args.imgsz,
            "epochs": args.epochs,
            "train_images": args.train_images,
            "val_images": args.val_images,
            "seed": args.seed,
            "train_seconds": round(seconds, 1),
            "map50": round(float(metrics.box.map50), 4),
            "map50_95": round(float(metrics.box.map), 4),
            "ultralytics": ultralytics.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "bytes": args.out.stat().st_size,
        }
        args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(record))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
