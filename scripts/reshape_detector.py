#!/usr/bin/env python
"""Make the bundled CenterNet take any input size, from the 512x512 file of ../shared/models.

    python scripts/reshape_detector.py [--source ../shared/models/coco-centernet-mbv3-512.onnx]
                                       [--out detection/backends/weights/coco-centernet-mbv3.onnx]

The network itself is fully convolutional (its three upsamplings are Resize by scales, its
squeeze-excite reshapes are per channel); only the box decoding at the end of the graph was
frozen at 512 by the TF.js -> ONNX conversion, in two constants:
- the reshape of the box map to one row per heatmap cell: [16384, 4] (128 x 128 cells),
  which becomes [-1, 4];
- the heatmap's width (128) in the arithmetic that turns a TopK index into a cell's column
  and row, which becomes Shape(box map)[2], computed in the graph.
The input becomes [1, height, width, 3] (both multiples of 32: the backbone downsamples by
32 and the upsampled maps are concatenated with the finer ones). At 512x512 the result is
the source model's (checked here: same boxes within 1e-3 px on the check photos), and the
same bytes come out of the same source.

Run it in the dev virtualenv (the onnx package is in requirements/dev.txt, not the app's).
This script is a maintainer's tool, not part of the app, which is why it imports onnxruntime
(to check its output) outside detection/backends/; no web or worker process imports it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO.parent / "shared" / "models" / "coco-centernet-mbv3-512.onnx"
SOURCE_SHA256 = "69d56999f31cb120ebc5a2783869da0cc8e823085ae0401943133940188cfb6a"
OUT = REPO / "detection" / "backends" / "weights" / "coco-centernet-mbv3.onnx"

INPUT = "tower_0/images:0"
BOX_MAP = "tower_0/wh"  # [1, H/4, W/4, 4]: distances to the box sides, per heatmap cell
HEATMAP = "tower_0/keypoints"  # [1, H/4, W/4, 80]
CELL_ROWS = "const_fold_opt__854"  # the reshape target [16384, 4]
HEATMAP_WIDTH = "tower_0/strided_slice_6:0"  # int32 128


def reshape(source: Path, out: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_param, dims[2].dim_param = "height", "width"
    for output in graph.output:
        if output.name in (BOX_MAP, HEATMAP):
            odims = output.type.tensor_type.shape.dim
            odims[1].dim_param, odims[2].dim_param = "height_4", "width_4"

    initializers = {i.name: i for i in graph.initializer}
    rows = initializers[CELL_ROWS]
    if numpy_helper.to_array(rows).tolist() != [16384, 4]:
        raise SystemExit(f"{source.name}: {CELL_ROWS} is not [16384, 4]: not the expected graph")
    rows.CopyFrom(numpy_helper.from_array(np.array([-1, 4], dtype=np.int64), CELL_ROWS))
    width = initializers[HEATMAP_WIDTH]
    if int(numpy_helper.to_array(width)) != 128:
        raise SystemExit(f"{source.name}: {HEATMAP_WIDTH} is not 128: not the expected graph")
    graph.initializer.remove(width)

    # The heatmap width, from the box map's shape, right after the node that makes the box map.
    computed = [
        helper.make_node("Shape", [BOX_MAP], ["heatmap_shape_w"], name="heatmap_shape_w", start=2, end=3),
        helper.make_node("Squeeze", ["heatmap_shape_w"], ["heatmap_width_i64"], name="heatmap_width_i64"),
        helper.make_node("Cast", ["heatmap_width_i64"], [HEATMAP_WIDTH], name="heatmap_width", to=TensorProto.INT32),
    ]
    at = next(i for i, node in enumerate(graph.node) if BOX_MAP in node.output) + 1
    for offset, node in enumerate(computed):
        graph.node.insert(at + offset, node)
    onnx.checker.check_model(model, full_check=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))


def check(source: Path, out: Path) -> float:
    """Largest difference between the two models' detections at 512x512 on the check photos,
    and a run at a few other sizes; returns the difference in input pixels."""
    import cv2
    import onnxruntime as ort

    sys.path.insert(0, str(REPO))
    from scripts.quantize_detector import check_photos

    fixed = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    anysize = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    worst = 0.0
    for path in check_photos():
        image = cv2.cvtColor(cv2.resize(cv2.imread(str(path)), (512, 512)), cv2.COLOR_BGR2RGB).astype(np.float32)
        a = fixed.run(["tower_0/detections"], {INPUT: image[None]})[0]
        b = anysize.run(["tower_0/detections"], {INPUT: image[None]})[0]
        worst = max(worst, float(np.abs(a - b).max()))
    for height, width in ((288, 512), (384, 384), (352, 640), (320, 320)):
        shape = anysize.run(["tower_0/detections"], {INPUT: np.zeros((1, height, width, 3), np.float32)})[0].shape
        if shape != (1, 100, 6):
            raise SystemExit(f"at {width}x{height} the detections come out as {shape}, not (1, 100, 6)")
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="the 512x512 CenterNet (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="the any-size model to write (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"error: {args.source} does not exist (it is in ../shared/models)", file=sys.stderr)
        return 2
    if hashlib.sha256(args.source.read_bytes()).hexdigest() != SOURCE_SHA256:
        print(f"error: {args.source} is not the model of ../shared/models/MANIFEST.md (sha256)", file=sys.stderr)
        return 2
    reshape(args.source, args.out)
    worst = check(args.source, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.out.name}: sha256 {digest}, {args.out.stat().st_size:,} bytes")
    print(f"largest difference from the 512x512 source at 512x512: {worst:.5f} (input pixels or score)")
    return 0 if worst < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
