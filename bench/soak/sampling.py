"""Memory and CPU of every AINVR process by role, sampled with psutil, and the slope of
memory over time (least squares, with its standard error)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import psutil

ROLES = ("supervisor", "capture", "detector", "face", "web", "rq", "helpers")
MB = 1024 * 1024


@dataclass
class Sample:
    t: float  # seconds from the start of the soak
    pids: frozenset[int]
    rss: float  # MB, summed over the role's processes
    pss: float
    uss: float


@dataclass
class RoleSeries:
    samples: list[Sample] = field(default_factory=list)
    cpu_s: dict[int, float] = field(default_factory=dict)  # pid -> CPU seconds at its last sample
    cpu_first: dict[int, float] = field(default_factory=dict)


class Sampler:
    """Call `sample(t, roles)` every few seconds with {role: [pid, ...]}."""

    def __init__(self):
        self.series: dict[str, RoleSeries] = defaultdict(RoleSeries)
        self._procs: dict[int, psutil.Process] = {}

    def sample(self, t: float, roles: dict[str, list[int]]) -> None:
        for role, pids in roles.items():
            rss = pss = uss = 0.0
            alive = []
            series = self.series[role]
            for pid in pids:
                try:
                    proc = self._procs.get(pid) or self._procs.setdefault(pid, psutil.Process(pid))
                    with proc.oneshot():
                        info = proc.memory_full_info()  # reads smaps_rollup: PSS and USS
                        cpu = proc.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    self._procs.pop(pid, None)
                    continue
                alive.append(pid)
                rss, pss, uss = rss + info.rss / MB, pss + info.pss / MB, uss + info.uss / MB
                series.cpu_first.setdefault(pid, cpu.user + cpu.system)
                series.cpu_s[pid] = cpu.user + cpu.system
            if alive:
                series.samples.append(Sample(t, frozenset(alive), rss, pss, uss))

    def cpu_pct(self, role: str, seconds: float) -> float:
        series = self.series.get(role)
        if not series or seconds <= 0:
            return 0.0
        used = sum(series.cpu_s[p] - series.cpu_first[p] for p in series.cpu_s)
        return 100.0 * used / seconds


@dataclass(frozen=True)
class Slope:
    mb_per_h: float
    stderr_mb_per_h: float  # standard error of the slope
    noise_mb: float  # standard deviation of the residuals
    points: int
    hours: float
    start_mb: float
    end_mb: float
    processes: int

    def flat(self, max_mb_per_h: float) -> bool:
        """Flat within noise: the climb is under the limit, or not told apart from zero."""
        return self.mb_per_h <= max(max_mb_per_h, 2 * self.stderr_mb_per_h)


def fit(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least squares y = a + b t: (b, standard error of b, residual standard deviation)."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    stt = sum((t - mean_t) ** 2 for t, _ in points)
    if n < 3 or stt == 0:
        return 0.0, math.inf, 0.0
    b = sum((t - mean_t) * (y - mean_y) for t, y in points) / stt
    a = mean_y - b * mean_t
    residuals = [y - (a + b * t) for t, y in points]
    sigma = math.sqrt(sum(r * r for r in residuals) / (n - 2))
    return b, sigma / math.sqrt(stt), sigma


def longest_run(samples: list[Sample]) -> list[Sample]:
    """The longest stretch of samples with the same processes (a restart starts a new one)."""
    best, current = [], []
    for s in samples:
        if current and s.pids != current[-1].pids:
            best, current = max(best, current, key=len), []
        current.append(s)
    return max(best, current, key=len)


def memory_slope(samples: list[Sample], *, warmup_s: float, metric: str = "uss") -> Slope | None:
    """The slope of a role's memory over its longest stretch without restarts, leaving out
    the first `warmup_s` of that stretch (imports, model loading, caches filling)."""
    run = longest_run(samples)
    if not run:
        return None
    kept = [s for s in run if s.t >= run[0].t + warmup_s]
    if len(kept) < 3:
        return None
    points = [(s.t / 3600, getattr(s, metric)) for s in kept]
    b, se, noise = fit(points)
    return Slope(b, se, noise, len(kept), points[-1][0] - points[0][0], points[0][1], points[-1][1], len(kept[0].pids))
