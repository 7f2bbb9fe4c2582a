"""Detection benchmark: live CPU per camera, offline analysis speed and inference cost.

    python -m bench.detect [--live-seconds 10] [--footage-seconds 60] [--only live,offline,backends]

One run, three tables, each ratio measured in the same run: (a) the live motion-gated
pipeline's CPU per camera on a static and a busy clip against the naive pipeline (OpenCV
decodes every frame at full resolution, the detector sees every frame); (b) offline analysis
as a realtime factor (footage seconds per wall second) for AINVR and the naive loop at 1
sample/s; (c) inference ms per frame of each backend at 320 and 640. See bench/README.md.
"""
