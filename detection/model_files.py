"""A user's own detector brought into MODELS_DIR: checked, converted to ONNX, stored with its
checksum (manage.py import_model).

The file is checked by loading it the way the inference process will (onnxruntime, the
onnx backend's layouts) and running it once, before anything is written; it is then written
under a temporary name and renamed, so a bad file or a crash never leaves a half model where
the workers look, and the running model stays in service.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.model_scores import BUNDLED_NAMES
from detection.backends import DetectorError, create_detector
from detection.backends.onnx import checksum_path, sha256_of

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.onnx")


@dataclass(frozen=True)
class ImportedModel:
    path: Path
    sha256: str
    classes: int
    input_size: tuple[int, int]
    converted: bool  # from an ultralytics .pt


def import_model(source: Path, models_dir: Path, *, name: str = "", imgsz: int = 640, replace: bool = False):
    """Check `source` (.onnx, or .pt converted with ultralytics), store it in `models_dir` as
    `name` (default: its own name, .onnx) with a checksum file beside it. Raises DetectorError
    with one line a user can act on."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise DetectorError(f"{source} is not a file")
    suffix = source.suffix.lower()
    if suffix not in (".onnx", ".pt"):
        raise DetectorError(f"{source.name}: give an ONNX model (.onnx) or an ultralytics one (.pt)")
    name = name or f"{source.stem}.onnx"
    if not NAME.fullmatch(name):
        raise DetectorError(f"--name {name!r}: letters, digits, '.', '_' and '-' only, ending in .onnx")
    if name in BUNDLED_NAMES:
        raise DetectorError(f"--name {name!r} is the bundled model's; choose another name")
    target = Path(models_dir) / name
    if target.exists() and not replace:
        raise DetectorError(f"{target} exists already; add --replace to replace it")
    with tempfile.TemporaryDirectory(prefix="ainvr-import-") as scratch:
        onnx = source
        if suffix == ".pt":
            from detection.backends.ultralytics import export_onnx

            # Exported beside the weights: a copy in scratch, so the user's folder gets nothing.
            copy = Path(scratch) / source.name
            shutil.copyfile(source, copy)
            onnx = export_onnx(copy, Path(scratch), imgsz=imgsz)
        detector = check_onnx(onnx)
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        digest = sha256_of(onnx)
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(onnx, partial)
        # An old checksum goes first: stopped half-way, the new file is unchecked, never "damaged".
        checksum_path(target).unlink(missing_ok=True)
        os.replace(partial, target)
    checksum_path(target).write_text(f"{digest}  {target.name}\n")
    return ImportedModel(target, digest, len(detector.labels), detector.input_size, suffix == ".pt")


def check_onnx(path: Path):
    """The onnx detector of `path`, loaded and run once on a grey picture; DetectorError
    when onnxruntime cannot open it or its input or output is not a detector's."""
    try:
        detector = create_detector("onnx", model=str(path), threads=1)
        detector.load()
        detector.detect([np.full((480, 640, 3), 114, np.uint8)])
    except DetectorError:
        raise
    except Exception as e:  # onnxruntime's own errors: a model of the wrong shape for our input
        raise DetectorError(f"{path.name} does not run as a detector: {e}".splitlines()[0]) from e
    return detector
