"""What the soak found: footage per camera against the fault windows, memory per role,
recovery times, rows and bytes per camera-hour; and whether the targets were met."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from bench.soak.sampling import ROLES, Sampler, memory_slope


@dataclass
class CameraFootage:
    slug: str
    segments: int
    expected: int
    startup_s: float  # from launch to its first segment's start
    lost_s: float  # gaps beyond one GOP, less the time its camera was down
    gaps: list[str] = field(default_factory=list)


def footage(
    slug: str,
    rows: list[tuple[datetime, datetime]],
    *,
    launched: float,
    stopped: float,
    down: list[tuple[float, float]],
    segment_s: float,
    gop_s: float,
) -> CameraFootage:
    """rows: (start, end) of the camera's segments in order; launched/stopped and `down`
    (the windows its camera was down) are epoch seconds."""
    if not rows:
        return CameraFootage(slug, 0, math.ceil((stopped - launched) / segment_s), math.inf, stopped - launched)
    spans = [(s.timestamp(), e.timestamp()) for s, e in rows]
    first, last = spans[0][0], spans[-1][1]
    downtime = sum(_overlap((first, last), window) for window in down)
    result = CameraFootage(slug, len(spans), round((last - first - downtime) / segment_s), first - launched, 0.0)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        gap = start - end
        if gap <= gop_s:
            continue  # segments join at keyframes
        excused = sum(_overlap((end, start), window) for window in down)
        result.lost_s += max(0.0, gap - excused)
        result.gaps.append(f"{datetime.fromtimestamp(end):%H:%M:%S} {gap:.1f} s (camera down {excused:.0f} s of it)")
    # A camera that stopped recording before the end (or was never back) lost the rest.
    tail = stopped - last - sum(_overlap((last, stopped), window) for window in down)
    if tail > segment_s + gop_s:
        result.lost_s += tail
        result.gaps.append(f"no footage in the last {tail:.0f} s")
    return result


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def resumed_after(rows: list[tuple[datetime, datetime]], up_at: float) -> float | None:
    """Seconds from the camera's return to the start of its first segment after it."""
    starts = [s.timestamp() for s, _ in rows if s.timestamp() >= up_at - 1.0]
    return min(starts) - up_at if starts else None


def memory_table(sampler: Sampler, *, warmup_s: float, max_slope: float) -> tuple[list[str], list[str]]:
    """The table's lines, and the roles whose memory climbed."""
    lines = [
        "| role | processes | RSS MB start -> end | RSS slope MB/h (± s.e.) | noise MB | USS MB start -> end | "
        "USS slope MB/h | fitted over | flat |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    climbing = []
    for role in ROLES:
        series = sampler.series.get(role)
        if not series or not series.samples:
            continue
        # RSS is judged: a forked process's USS grows as it copies pages it shares with the
        # forkserver on writing to them (its RSS does not), which is no leak.
        rss = memory_slope(series.samples, warmup_s=warmup_s, metric="rss")
        uss = memory_slope(series.samples, warmup_s=warmup_s, metric="uss")
        if uss is None or rss is None:
            lines.append(f"| {role} | {len(series.samples[-1].pids)} | too few samples after warm-up | | | | | | |")
            continue
        flat = rss.flat(max_slope)
        if not flat and role not in ("rq", "helpers"):  # rq forks a fresh work horse per job
            climbing.append(role)
        lines.append(
            f"| {role} | {rss.processes} | {rss.start_mb:.1f} -> {rss.end_mb:.1f} | {rss.mb_per_h:+.2f} "
            f"(± {rss.stderr_mb_per_h:.2f}) | {rss.noise_mb:.2f} | {uss.start_mb:.1f} -> {uss.end_mb:.1f} | "
            f"{uss.mb_per_h:+.2f} | {rss.hours * 60:.0f} min | {'yes' if flat else 'NO'} |"
        )
    return lines, climbing


def cpu_line(sampler: Sampler, seconds: float) -> str:
    parts = [f"{role} {sampler.cpu_pct(role, seconds):.1f}" for role in ROLES if role in sampler.series]
    return "CPU, % of one core over the soak: " + ", ".join(parts)


def per_camera_hour(rows: dict[str, int], db_bytes: int, file_bytes: dict[str, int], camera_hours: float) -> list[str]:
    lines = ["| what | total | per camera-hour |", "| --- | --- | --- |"]
    for table, n in sorted(rows.items(), key=lambda kv: -kv[1]):
        if n and not table.startswith(("auth_", "django_")):
            lines.append(f"| rows in {table} | {n} | {n / camera_hours:.0f} |")
    lines.append(f"| database bytes | {db_bytes / 1e6:.1f} MB | {db_bytes / 1e6 / camera_hours:.2f} MB |")
    for name, size in file_bytes.items():
        lines.append(f"| {name} bytes on disk | {size / 1e6:.1f} MB | {size / 1e6 / camera_hours:.1f} MB |")
    return lines
