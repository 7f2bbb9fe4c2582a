"""Soak benchmark: N cameras with detection for an hour (configurable), faults injected on a
schedule, memory per process role, footage against the fault windows, recovery times.

    python -m bench.soak --cameras 6 --minutes 60 --faults camera-down@10m:60s,detector-kill@20m,web-restart@30m

It builds a throwaway DATA_DIR, database (PostgreSQL when one answers on 127.0.0.1:5432,
else SQLite) and Redis, adds N RTSP cameras (tests.rtsp) with detection on and attendance on
one, runs daphne, runworkers and rqworker as real subprocesses with DEBUG off, samples every
process's memory (RSS, PSS, USS) and CPU by role with psutil, injects the faults, and prints
per role the memory slope after a warm-up (least squares, with its standard error), per
camera the segments got against expected and the footage lost beyond the faults, each
fault's recovery time, and rows and bytes per camera-hour. Exit 1 when a target is missed:
a role's memory climbs beyond --max-slope MB/h (and beyond noise), or a camera loses more
than --max-lost seconds beyond its faults.
"""
