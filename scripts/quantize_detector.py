#!/usr/bin/env python
"""Make the int8 copy of the bundled CenterNet and check it against the fp32 model.

    python scripts/quantize_detector.py [--format qdq|qoperator] [--per-tensor] [--keep-head-float]
                                        [--out detection/backends/weights/coco-centernet-mbv3-int8.onnx]
    python scripts/quantize_detector.py --check-only [--out FILE]   # compare an existing int8 file

Run it in the dev virtualenv: onnxruntime.quantization needs the onnx package
(requirements/dev.txt); the app does not.

Static quantisation with onnxruntime.quantization: weights and activations int8, activation
ranges calibrated (MinMax) on images that ship with the project or its packages, never a
download: ultralytics' bus.jpg and zidane.jpg, cameras/demo_assets (the demo clip's photos)
and tests/attendance/photos, each whole and as the zoomed, panned views the demo clip shows,
and mirrored, at 512x512 (the model takes any size: scripts/reshape_detector.py; the ranges
do not depend on it). The same files in the same order give the same model: the output's
sha256 is printed, and it is the one detection/backends/onnx.py checks.

Weights are int8 with 7 bits used (onnxruntime's reduce_range): x86 CPUs without VNNI (AVX2
only: AMD Zen 1-3, Intel before Cascade Lake) multiply uint8 activations by int8 weights
with an instruction that saturates pairs of products at 16 bits; with full 8-bit weights,
on such a CPU (an AMD EPYC here) scores moved by up to 0.36 from fp32 and the bus of bus.jpg
was lost, while a VNNI CPU had shown nothing wrong. 7 bits cannot saturate.

The box decoding at the end of the graph (peak picking with MaxPool/Equal, TopK, index
arithmetic) is kept in float: quantising it buys no time and would move boxes by whole
quantisation steps. The comparison printed at the end runs both models through the onnx
backend on bus.jpg, zidane.jpg and the demo photos, matches detections of the same class at
IoU >= 0.5, and fails (exit 1) if a detection is found by one model only with a score at the
judged score (0.4) that the other does not find, or if a matched pair's scores differ by
more than the tolerance (0.1); detections between the floor (0.25) and 0.4 are listed only.

This script is a maintainer's tool, not part of the app, which is why it imports onnxruntime
outside detection/backends/.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for detection.backends, run from anywhere

WEIGHTS = REPO / "detection" / "backends" / "weights"
FP32 = WEIGHTS / "coco-centernet-mbv3.onnx"
INT8 = WEIGHTS / "coco-centernet-mbv3-int8.onnx"
SIZE = 512
# The graph's last nodes turn the heatmap into boxes: everything downstream of these two
# outputs (and the outputs' own Sigmoid / scaling) stays float.
HEAD_OUTPUTS = ("tower_0/keypoints", "tower_0/wh")
# The two 1x1 convolutions that produce the class heatmap and the box sizes: the only ones
# left float by --keep-head-float.
# The first convolution and the first bottleneck (Conv__503 is its depthwise convolution),
# at 256x256: with int8 activations their error grows through the whole network (person
# scores fell by up to 0.27), and left float they cost no measurable time.
STEM = ("tower_0/MobilenetV3/Conv/", "tower_0/MobilenetV3/expanded_conv/", "Conv__503")
HEAD_CONVS = (
    "tower_0/CenternetHead/centernet_cls_output/BiasAdd_BiasAdd__107",
    "tower_0/CenternetHead/centernet_wh_output/BiasAdd_BiasAdd__108",
)
# Activation ranges cut at this percentile of the calibration values: MinMax let rare
# outliers stretch the ranges of ReLU outputs until most values fell into a few steps.
# With 7-bit weights, 99.99 kept every score within 0.1 of fp32 (99.999: 0.118).
PERCENTILE = 99.99
CONFIDENCE = 0.25  # DETECTOR_CONFIDENCE's default: what the detector returns
# Cameras and analysis jobs keep objects at 0.5 and above by default: every detection at
# 0.4 or more on either side must be found by the other model, within the tolerance, so no
# object that could become an event comes and goes with the precision. Below 0.4 the
# differences are listed, not judged.
JUDGED_FROM = 0.4
SCORE_TOLERANCE = 0.1
MATCH_IOU = 0.5


def ultralytics_asset(name: str) -> Path:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        raise SystemExit("ultralytics is not installed (pip install -r requirements/dev.txt)")
    return Path(spec.origin).parent / "assets" / name


def photos() -> list[Path]:
    """Every calibration photo, in a fixed order."""
    found = [ultralytics_asset("bus.jpg"), ultralytics_asset("zidane.jpg")]
    found += sorted((REPO / "cameras" / "demo_assets").glob("*.jpg"))
    found += sorted((REPO / "tests" / "attendance" / "photos").glob("*.jpg"))
    return found


def check_photos() -> list[Path]:
    """The photos the fp32/int8 comparison runs on."""
    return [ultralytics_asset("bus.jpg"), ultralytics_asset("zidane.jpg")] + sorted(
        (REPO / "cameras" / "demo_assets").glob("*.jpg")
    )


def views(image: np.ndarray) -> list[np.ndarray]:
    """The whole photo, four zoomed views of it (1/1.25 of the width, as the demo clip's
    closest view, at its corners' side of the centre), and the mirror of each."""
    height, width = image.shape[:2]
    w, h = round(width / 1.25), round(height / 1.25)
    crops = [image]
    for fx, fy in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
        x, y = round(fx * (width - w)), round(fy * (height - h))
        crops.append(image[y : y + h, x : x + w])
    return crops + [cv2.flip(c, 1) for c in crops]


def model_input(image: np.ndarray) -> np.ndarray:
    """What the onnx backend feeds the bundled model: resized to 512x512, RGB, raw 0..255."""
    resized = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)[None]


class CalibrationImages:
    """onnxruntime.quantization's CalibrationDataReader protocol over the views of `paths`,
    with the `set_range` that lets the calibrator take them a few at a time."""

    def __init__(self, paths: list[Path], input_name: str):
        self.input_name = input_name
        self.tensors = [model_input(v) for p in paths for v in views(cv2.imread(str(p)))]
        self.set_range(0, len(self.tensors))

    def __len__(self) -> int:
        return len(self.tensors)

    def get_next(self) -> dict | None:
        tensor = next(self._next, None)
        return None if tensor is None else {self.input_name: tensor}

    def set_range(self, start_index: int, end_index: int) -> None:
        self._next = iter(self.tensors[start_index:end_index])


def float_tail(model) -> list[str]:
    """Names of the nodes that turn the head's two convolutions into boxes: back from each
    head output to its convolution (Sigmoid, scaling, Transpose), and everything downstream."""
    produced_by = {out: node for node in model.graph.node for out in node.output}
    tail: set[str] = set()
    for name in HEAD_OUTPUTS:
        node = produced_by[name]
        while node.op_type != "Conv":
            tail.add(node.name)
            node = produced_by[node.input[0]]
    downstream = set(HEAD_OUTPUTS)
    for node in model.graph.node:  # nodes are topologically sorted
        if any(i in downstream for i in node.input):
            tail.add(node.name)
            downstream.update(node.output)
    return sorted(tail)


def quantize(out: Path, *, fmt: str, per_channel: bool, keep_head_float: bool, quantize_stem: bool) -> None:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph clean-up first, as onnxruntime recommends for static quantisation.
        quant_pre_process(str(FP32), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        exclude = float_tail(model) + (list(HEAD_CONVS) if keep_head_float else [])
        if not quantize_stem:
            exclude += [n.name for n in model.graph.node if n.name.startswith(STEM)]
        reader = CalibrationImages(photos(), model.graph.input[0].name)

        began = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # a line per calibration image otherwise
            quantize_static(
                str(prepared),
                str(out),
                reader,
                quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                per_channel=per_channel,
                reduce_range=True,  # 7-bit weights: no saturation on CPUs without VNNI (see above)
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.Percentile,
                nodes_to_exclude=exclude,
                extra_options={
                    "ActivationSymmetric": False,
                    "WeightSymmetric": True,
                    "CalibPercentile": PERCENTILE,
                    # One image at a time into the histograms (the option is named for MinMax but
                    # every calibrator honours it): holding every activation of all 110 images at
                    # once takes over 24 GB.
                    "CalibStridedMinMax": 1,
                },
            )
    print(
        f"quantised {FP32.name} -> {out.name} ({fmt}, {'per-channel' if per_channel else 'per-tensor'}, "
        f"{len(exclude)} nodes float, {len(reader.tensors)} calibration images) in {time.perf_counter() - began:.0f} s"
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(reference: list, candidate: list) -> tuple[list, list, list]:
    """Greedy one-to-one matching, best score first: (pairs, only in reference, only in candidate)."""
    pairs, left = [], list(candidate)
    only_ref = []
    for det in reference:
        same = [c for c in left if c.label == det.label and iou(c.box, det.box) >= MATCH_IOU]
        if same:
            best = max(same, key=lambda c: iou(c.box, det.box))
            left.remove(best)
            pairs.append((det, best))
        else:
            only_ref.append(det)
    return pairs, only_ref, left


def detector(path: Path, threads: int = 0):
    from detection.backends import create_detector

    found = create_detector("onnx", model=str(path), confidence=CONFIDENCE, threads=threads)
    found.load()
    return found


def ms_per_call(found, images: list[np.ndarray], repeats: int = 30) -> float:
    found.detect(images[:1])  # the first run allocates
    began = time.perf_counter()
    for i in range(repeats):
        found.detect([images[i % len(images)]])
    return 1000 * (time.perf_counter() - began) / repeats


def compare(int8: Path) -> bool:
    """Print what each model finds on the check photos and whether they agree."""
    import os

    fp32_detector, int8_detector = detector(FP32), detector(int8)
    ok = True
    worst = 0.0
    for path in check_photos():
        image = cv2.imread(str(path))
        reference, candidate = fp32_detector.detect([image])[0], int8_detector.detect([image])[0]
        pairs, only_ref, only_new = match(reference, candidate)
        print(f"{path.name}: fp32 {len(reference)}, int8 {len(candidate)}, matched {len(pairs)}")
        for ref, new in pairs:
            delta = new.confidence - ref.confidence
            judged = max(ref.confidence, new.confidence) >= JUDGED_FROM
            if judged:
                worst = max(worst, abs(delta))
            flag = "  <-- score differs" if judged and abs(delta) > SCORE_TOLERANCE else ""
            print(
                f"  {ref.label:<14} fp32 {ref.confidence:.3f}  int8 {new.confidence:.3f}  "
                f"IoU {iou(ref.box, new.box):.2f}{flag}"
            )
            ok &= not flag
        for side, dets, others in (("fp32 only", only_ref, candidate), ("int8 only", only_new, reference)):
            for det in dets:
                near = max((iou(o.box, det.box) for o in others if o.label == det.label), default=0.0)
                judged = det.confidence >= JUDGED_FROM
                note = "  <-- missed by the other" if judged else "  (below 0.4: listed)"
                print(f"  {det.label:<14} {side} {det.confidence:.3f}, best IoU with the other's {near:.2f}{note}")
                ok &= not judged
    images = [cv2.imread(str(p)) for p in check_photos()[:2]]
    fp32_ms, int8_ms = ms_per_call(fp32_detector, images), ms_per_call(int8_detector, images)
    print(
        f"largest score difference at >= {JUDGED_FROM}: {worst:.3f} (tolerance {SCORE_TOLERANCE}); "
        f"ms per call with the backend (bus, zidane): fp32 {fp32_ms:.1f}, int8 {int8_ms:.1f} "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{int8.name}: sha256 {sha256_of(int8)}, {int8.stat().st_size:,} bytes")
    print("int8 agrees with fp32" if ok else "int8 DISAGREES with fp32")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=INT8, help=f"int8 model to write (default {INT8.name})")
    parser.add_argument("--format", choices=("qdq", "qoperator"), default="qdq")
    parser.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    parser.add_argument("--keep-head-float", action="store_true", help="leave the two output convolutions float")
    parser.add_argument("--quantize-stem", action="store_true", help="quantise the first convolutions too")
    parser.add_argument("--check-only", action="store_true", help="only compare an existing --out with fp32")
    args = parser.parse_args(argv)
    if not args.check_only:
        try:
            import onnx  # noqa: F401
        except ImportError:
            print("onnxruntime.quantization needs the onnx package: pip install onnx==1.23.2", file=sys.stderr)
            return 2
        quantize(
            args.out,
            fmt=args.format,
            per_channel=not args.per_tensor,
            keep_head_float=args.keep_head_float,
            quantize_stem=args.quantize_stem,
        )
    return 0 if compare(args.out) else 1


if __name__ == "__main__":
    sys.exit(main())
