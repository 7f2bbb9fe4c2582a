"""Command line: python -m bench.detect."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import bench.detect
from bench.detect.common import (
    busy_frames,
    encode_clip,
    fmt,
    passer_by_frames,
    photo,
    setup_django,
    static_frames,
    table,
)

PARTS = ("live", "offline", "backends", "crops")


def live_part(detector, scratch: Path, seconds: float) -> str:
    from bench.detect.live import ainvr_live, naive_live

    n = max(30, round(seconds * 15))
    rng = np.random.default_rng(1)
    static = encode_clip(scratch / "static.mp4", static_frames(n, 1280, 720, rng), fps=15, gop=30)
    busy = encode_clip(scratch / "busy.mp4", busy_frames(n, 1280, 720), fps=15, gop=30)
    results = []
    for name, clip in (("static", static), ("busy", busy)):
        naive = naive_live(clip, detector, what=f"naive, {name} clip")
        ainvr = ainvr_live(clip, detector, detect_fps=5, what=f"AINVR gated, {name} clip")
        results.append((naive, naive))
        results.append((ainvr, naive))
    rows = [
        (
            r.what,
            f"{r.footage_s:.0f}",
            f"{100 * r.core_share:.1f}",
            f"{r.wall_s:.1f}",
            str(r.detector_frames),
            fmt(base.core_share / r.core_share),
        )
        for r, base in results
    ]
    header = ("(a) live, 720p15 camera", "footage s", "CPU % of a core", "wall s", "detector frames", "x cheaper")
    return table(header, rows)


def offline_part(detectors: dict, scratch: Path, seconds: float) -> str:
    """`detectors`: the CenterNet loaded as "fp32" and "int8" at 512, and as "analysis" (int8 at
    ANALYSIS_INPUT_SIZE, what `analyze` runs). The "fp32 512, decoding in turn" row is analysis
    as it was before int8 and the decoder thread, measured in the same run; the naive loop runs
    the fp32 model at 512, as a simple script would."""
    from bench.detect.offline import ainvr_analysis, naive_analysis, record_clip, record_footage, sampler_alone

    fp32, int8, analysis = detectors["fp32"], detectors["int8"], detectors["analysis"]
    default = f"int8 {analysis.input_size[0]}"
    camera, segments = record_footage(scratch, seconds=seconds)
    n = round(seconds * 15)
    clips = {
        "fixed camera, a passer-by": passer_by_frames(n, 1280, 720, np.random.default_rng(3)),
        "fixed camera, still scene": static_frames(n, 1280, 720, np.random.default_rng(2)),
    }
    fixed = []
    for i, (name, frames) in enumerate(clips.items()):
        clip = encode_clip(scratch / f"fixed{i}.mp4", frames, fps=15, gop=30)
        fixed.append((name, *record_clip(scratch, clip, f"bench-fixed{i}")))
    del clips

    naive = naive_analysis(segments, fp32, what="demo clip: naive, OpenCV decodes all, detector 1/s")
    results = [(naive, naive)]
    runs = ((fp32, "fp32 512, decoding in turn", 0), (int8, "int8 512", None), (analysis, default, None))
    for detector, how, ahead in runs:
        what = f"demo clip: AINVR analyze, {how}"
        run = ainvr_analysis(camera, segments, detector, annotate=False, what=what, decode_ahead=ahead)
        results.append((run, naive))
    what = f"demo clip: AINVR analyze --annotate, {default}"
    results.append((ainvr_analysis(camera, segments, analysis, annotate=True, what=what), naive))
    results.append((sampler_alone(segments, every_frame=False, what="demo clip: AINVR decoding alone"), naive))
    results.append((sampler_alone(segments, every_frame=True, what="demo clip: decoding every frame"), naive))
    for name, fixed_camera, fixed_segments in fixed:
        fixed_naive = naive_analysis(fixed_segments, fp32, what=f"{name}: naive")
        results.append((fixed_naive, fixed_naive))
        for detector, how in ((int8, "int8 512"), (analysis, default)):
            run = ainvr_analysis(fixed_camera, fixed_segments, detector, annotate=False, what=f"{name}: AINVR, {how}")
            results.append((run, fixed_naive))
    rows = [
        (
            r.what,
            f"{r.footage_s:.0f}",
            str(r.samples),
            str(r.detector_frames),
            f"{r.wall_s:.2f}",
            f"{r.cpu_s:.2f}",
            f"{r.realtime:.1f}",
            f"{r.footage_s / r.cpu_s:.1f}",
            fmt(r.realtime / base.realtime),
        )
        for r, base in results
    ]
    header = (
        f"(b) analysis at 1 sample/s of {len(segments)} segments, 720p15, GOP 2 s",
        "footage s",
        "samples",
        "detector frames",
        "wall s",
        "CPU s",
        "x realtime",
        "x realtime per CPU s",
        "x naive",
    )
    return table(header, rows)


def backends_part(repeats: int) -> str:
    from bench.detect.backends import measure

    images = [photo("bus.jpg"), photo("zidane.jpg")]
    weights = Path(__file__).resolve().parents[2] / "tests" / "detection" / "weights" / "tiny-shapes-yolov8n.pt"
    # The CenterNet at its own 512 per precision on 2 and 1 threads, then smaller inputs.
    results = [
        measure("onnx", {"precision": precision, "threads": threads}, 512, images, repeats=repeats)
        for precision in ("fp32", "int8")
        for threads in (2, 1)
    ]
    for size in (384, 320):
        options = {"precision": "int8", "threads": 1, "input_size": size}
        results.append(measure("onnx", options, size, images, repeats=repeats))
    for size in (320, 640):
        results.append(measure("ultralytics", {"model": str(weights), "imgsz": size}, size, images, repeats=repeats))
    base = results[0].ms_per_frame
    rows = [
        (
            (f"{r.backend}: {r.model}" if not r.note else f"{r.backend}: {r.note}") + r.threads,
            str(r.size),
            fmt(r.ms_per_frame, 2),
            fmt(r.cpu_ms_per_frame, 2),
            fmt(base / r.ms_per_frame if base and r.ms_per_frame else None),
        )
        for r in results
    ]
    header = ("(c) inference, batch 1, CPU", "input px", "wall ms/frame", "CPU ms/frame", "x faster than onnx fp32")
    return table(header, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detect", description=bench.detect.__doc__.split("\n\n")[0])
    parser.add_argument("--live-seconds", type=float, default=10, help="length of each live clip (default 10)")
    parser.add_argument("--footage-seconds", type=float, default=60, help="footage analysed offline (default 60)")
    parser.add_argument("--repeats", type=int, default=30, help="inference calls per backend row (default 30)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (default: its choice)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help="parts to run, comma separated: live,offline,backends,crops"
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if not parts or any(p not in PARTS for p in parts):
        parser.error(f"--only takes some of {', '.join(PARTS)}")
    if args.live_seconds < 2 or args.footage_seconds < 10 or args.repeats < 1:
        parser.error("--live-seconds must be at least 2, --footage-seconds at least 10, --repeats at least 1")

    scratch = setup_django()
    from detection.backends import DetectorError, create_detector
    from detection.backends.byte_tracker import ByteTracker

    detectors = {}
    for precision in ("fp32", "int8"):
        detector = create_detector(
            "onnx", confidence=0.25, threads=args.threads, classes=["person", "car"], precision=precision
        )
        try:
            detector.load()
        except DetectorError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        detector.detect([photo("bus.jpg")])  # warm up: first runs allocate
        detectors[precision] = detector
    from detection.analysis.services import analysis_input_size

    size = analysis_input_size("onnx", "") or None  # what `analyze` runs the bundled model at
    options = {"confidence": 0.25, "threads": args.threads, "classes": ["person", "car"], "input_size": size}
    analysis = create_detector("onnx", **options)
    analysis.load()
    detectors["analysis"] = analysis
    detector = detectors["int8"]  # the default on a CPU
    ByteTracker().update([], 640, 360)  # import ultralytics' tracker (and torch) before timing
    work = Path(tempfile.mkdtemp(prefix="clips-", dir=scratch))

    described = "; ".join(d.describe() for d in detectors.values())
    print(f"\n{described}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}\n")
    if "live" in parts:
        print(live_part(detector, work, args.live_seconds) + "\n")
    if "offline" in parts:
        print(offline_part(detectors, work, args.footage_seconds) + "\n")
    if "backends" in parts:
        print(backends_part(args.repeats) + "\n")
    if "crops" in parts:
        from bench.detect.crops import crops_part

        print(crops_part(detector) + "\n")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
