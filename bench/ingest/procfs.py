"""Reading CPU and memory of processes from /proc."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")
SETTLE_S = 2.0  # after the last stream's first file, before the steady window starts
STOP_TIMEOUT_S = 60.0
# Variables of a developer's environment that must not reach the scratch AINVR.
AINVR_ENV = ("DATABASE_URL", "DATABASE_TEST_NAME", "REDIS_URL", "SECRET_KEY", "STATE_DIR", "MEDIA_DIR")
AINVR_ENV += ("RECORDINGS_DIR", "MODELS_DIR", "STATIC_ROOT", "WORKER_LEASE_SECONDS")

CREATE_CAMERAS = """
import json, os
from cameras.models import Camera
from cameras.services import save_camera
for c in json.loads(os.environ["BENCH_CAMERAS"]):
    save_camera(Camera(name=c["slug"], slug=c["slug"], stream_url=c["url"], segment_seconds=c["seconds"],
                       ai_enabled=False, attendance_enabled=False))
"""
DUMP_SEGMENTS = """
import json
from recordings.models import Segment
rows = Segment.objects.select_related("camera").order_by("camera__slug", "start")
print(json.dumps([[s.camera.slug, s.path, s.start.isoformat(), s.end.isoformat()] for s in rows]))
"""


class BenchError(RuntimeError):
    """A phase could not run; the message says why."""


# --- /proc --------------------------------------------------------------------------------
def scan_processes() -> dict[int, tuple[int, int]]:
    """{pid: (ppid, utime+stime ticks)} of every process."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in kB; (0, 0) for a process that is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"Rss", b"Pss"):
                    values[key] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return values.get(b"Pss", 0), values.get(b"Rss", 0)


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def machine_busy_ticks() -> int:
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


@dataclass
class Meter:
    """CPU and memory of named groups of processes, sampled once a second over the steady
    window. A group's CPU is the sum over its processes of their ticks between their first
    and last sample; its memory is the mean over the samples."""

    start_ticks: dict[int, int] = field(default_factory=dict)
    last_ticks: dict[int, int] = field(default_factory=dict)
    group_of: dict[int, str] = field(default_factory=dict)
    memory: dict[str, list[tuple[int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    first: tuple[float, int] = (0.0, 0)  # (monotonic, the machine's busy ticks) at the first sample
    last: tuple[float, int] = (0.0, 0)  # the same at the last one

    def sample(self, groups: dict[str, list[int]], ticks: dict[int, tuple[int, int]], now: float) -> None:
        self.last = (now, machine_busy_ticks())
        self.first = self.first if self.first[0] else self.last
        for group, pids in groups.items():
            pss = rss = 0
            for pid in pids:
                if pid in ticks:
                    self.group_of[pid] = group
                    self.start_ticks.setdefault(pid, ticks[pid][1])
                    self.last_ticks[pid] = ticks[pid][1]
                    p, r = memory_kb(pid)
                    pss, rss = pss + p, rss + r
            self.memory[group].append((len(pids), pss, rss))

    @property
    def seconds(self) -> float:
        return self.last[0] - self.first[0]

    def cpu_pct(self, group: str) -> float:
        """Percent of one core the group used over the window."""
        ticks = sum(self.last_ticks[p] - self.start_ticks[p] for p, g in self.group_of.items() if g == group)
        return 100.0 * ticks / CLK_TCK / self.seconds if self.seconds else 0.0

    def startup_cpu_s(self, group: str) -> float:
        """CPU seconds the group's processes had used before their first sample (start-up)."""
        return sum(self.start_ticks[p] for p, g in self.group_of.items() if g == group) / CLK_TCK

    def mean_mb(self, group: str) -> tuple[float, float, float]:
        """(processes, PSS MB, RSS MB), means over the window."""
        rows = self.memory.get(group) or [(0, 0, 0)]
        n, pss, rss = (sum(r[i] for r in rows) / len(rows) for i in range(3))
        return n, pss / 1024, rss / 1024

    def machine_pct(self) -> float:
        """Percent of one core the whole machine was busy (other users included)."""
        busy = self.last[1] - self.first[1]
        return 100.0 * busy / CLK_TCK / self.seconds if self.seconds else 0.0
