"""Loaded by every Python process of a soak run with --tracemalloc (bench/soak puts this
folder on PYTHONPATH): traces allocations and writes, every AINVR_SOAK_TRACEMALLOC_EVERY
seconds, the allocation sites that grew most since the first dump to
$AINVR_SOAK_TRACEMALLOC/<pid>-<process name>.txt (only the processes named in
AINVR_SOAK_TRACEMALLOC_ONLY when set: runworkers, capture-<slug>, detector-cpu, attendance).
Comparing two snapshots minutes apart shows what a long-running process keeps adding to.
Processes forked later (capture processes and stages, from multiprocessing's forkserver)
inherit tracing and get a thread of their own. Not part of AINVR: a measuring tool."""

import os

_DIR = os.environ.get("AINVR_SOAK_TRACEMALLOC")


def _start_dumper() -> None:
    import threading

    threading.Thread(target=_dump_loop, name="soak-tracemalloc", daemon=True).start()


def _name() -> str:
    import multiprocessing
    import sys

    name = multiprocessing.current_process().name
    if name == "MainProcess":
        name = next((a for a in sys.argv[1:3] if not a.startswith("-")), os.path.basename(sys.argv[0]))
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]


def _dump_loop() -> None:
    import sys
    import time
    import tracemalloc

    time.sleep(1.0)  # a forked child learns its name (multiprocessing) just after the fork
    if "forkserver" in " ".join(getattr(sys, "orig_argv", [])):
        return  # keeps tracing for the processes it forks; nothing of its own to report
    only = set(filter(None, os.environ.get("AINVR_SOAK_TRACEMALLOC_ONLY", "").split(",")))
    if only and _name() not in only:
        tracemalloc.stop()  # not a process under study: no tracing overhead
        return
    every = float(os.environ.get("AINVR_SOAK_TRACEMALLOC_EVERY", "60"))
    baseline, since = None, time.monotonic()
    while True:
        time.sleep(every)
        ignored = [tracemalloc.__file__, "<frozen importlib._bootstrap>"]
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, name) for name in ignored])
        if baseline is None:
            baseline, since = snapshot, time.monotonic()
            continue
        # By line first (grouping a whole Django heap by traceback takes minutes on a busy
        # machine), then the tracebacks of the lines that grew most.
        stats = snapshot.compare_to(baseline, "lineno")[:12]
        current, peak = tracemalloc.get_traced_memory()
        lines = [
            f"pid {os.getpid()} {_name()}: {time.monotonic() - since:.0f} s since the baseline; "
            f"traced {current / 1e6:.1f} MB (peak {peak / 1e6:.1f} MB)"
        ]
        for stat in stats:
            grew = f"{stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks"
            lines.append(f"{grew} (now {stat.size / 1024:.1f} KiB) at {stat.traceback[0]}")
            frame = stat.traceback[0]
            here = snapshot.filter_traces([tracemalloc.Filter(True, frame.filename, frame.lineno)])
            for where in here.statistics("traceback")[:2]:
                lines.append(f"  {where.size / 1024:.1f} KiB from:")
                lines += ["    " + line for line in where.traceback.format(limit=8)]
        path = os.path.join(_DIR, f"{os.getpid()}-{_name()}.txt")
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(path + ".tmp", path)


if _DIR:
    import tracemalloc

    os.makedirs(_DIR, exist_ok=True)
    tracemalloc.start(int(os.environ.get("AINVR_SOAK_TRACEMALLOC_FRAMES", "10")))
    _start_dumper()
    os.register_at_fork(after_in_child=_start_dumper)
