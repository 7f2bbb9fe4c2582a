"""py-spy profiles of a capture process."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from bench.ingest.procfs import REPO, BenchError


class Profiler:
    """py-spy record on the first capture process, `after` seconds into the phase; its
    collapsed stacks go to `out`."""

    def __init__(self, args, out: Path):
        self.args, self.out, self.process = args, out, None
        self.py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(self.py_spy).exists():
            raise BenchError("py-spy is not installed (pip install py-spy)")

    def __call__(self, elapsed: float, groups: dict[str, list[int]]) -> None:
        if self.process is None and elapsed >= self.args.profile_after and groups.get("capture"):
            argv = [
                self.py_spy,
                "record",
                "--pid",
                str(groups["capture"][0]),
                "--duration",
                str(round(self.args.profile)),
            ]
            argv += ["--rate", "100", "--format", "raw", "-o", str(self.out)]
            # --native pauses the process at each sample (to unwind C stacks): it costs more.
            argv += ["--native"] if self.args.native else ["--nonblocking"]
            with self.out.with_suffix(".log").open("w") as log:
                self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def frame_name(frame: str) -> str:
    """py-spy's 'step (/repo/cameras/capture.py:170)' as 'step [pipeline/capture.py]'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0].replace(f"{REPO}/", "")
    where = where.split("site-packages/")[-1]
    return f"{name} [{where}]" if where else name


def summarize_profile(path: Path, top: int = 15) -> list[str]:
    """The functions where one capture process spends its CPU time: self and inclusive shares."""
    if not path.exists():
        log = path.with_suffix(".log")
        return ["no profile was written" + (f": {log.read_text().strip()[-500:]}" if log.exists() else "")]
    own, inclusive, total = defaultdict(int), defaultdict(int), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{total} samples of a busy thread (100 per second)", "self:"]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in sorted(own.items(), key=lambda x: -x[1])[:top]]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in sorted(inclusive.items(), key=lambda x: -x[1])[:top]]
    return lines
