"""Detection benchmark: what the default detector and the live stage cost on this machine.

    python -m bench.detection [--frames 150] [--threads 0]

One run, one table: the onnx default (bundled CenterNet) in ms per frame at batch 1 and 4,
the motion gate's cost per frame, and the live inference stage per frame on a static and
on a busy clip, each with its ratio against the naive baseline measured in the same run
(the detector on every frame, batch 1, as simple NVR scripts do). See bench/README.md.
"""
