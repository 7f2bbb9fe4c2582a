"""Recording benchmark: AINVR's `manage.py runworkers` against plain `ffmpeg -c copy`, on this
machine, both reading one real RTSP server (tests/rtsp: 720p15 H.264 ~2 Mbit/s, GOP 30).

    python -m bench.ingest --cameras 8 --seconds 60        # or bench/run-ingest --cameras 8

Phase A records N cameras with runworkers on a scratch DATA_DIR (SQLite, DEBUG, a throwaway
Redis so the live relay runs as in production); phase B records the same streams with N
ffmpeg segmenters. Every second both are sampled from /proc (CPU: utime+stime; memory: PSS
and RSS from smaps_rollup); CPU and memory are averaged over the steady window, which starts
once every stream has written its first file. Then the files are checked: each opens with
PyAV and starts with a keyframe; AINVR's Segment rows match its files, and consecutive
segments of a camera leave no gap longer than one GOP. bench/README.md explains the columns.
Exits 1 on errors only (a phase that could not run), never on figures.
"""
