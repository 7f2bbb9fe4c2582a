"""The table and the details printed at the end."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

from bench.ingest.phases import PhaseResult


def table(results: list[PhaseResult], args) -> list[str]:
    expected = int(args.seconds // args.segment_seconds)
    head = ["system", "streams", "CPU % per stream", "PSS MB per stream", "RSS MB per stream", "segments", "lost"]
    head += ["gaps", "footage", "start-up s"]
    rows = [head]
    for r in results:
        pss, rss = r.memory_per_stream()
        segments = sum(c.good for c in r.checks.values())
        lost = sum(max(0, expected - c.good) + c.gaps for c in r.checks.values())
        footage = sum(c.footage_s for c in r.checks.values()) / (r.streams * args.seconds)
        gaps = str(sum(c.gaps for c in r.checks.values())) if r.system == "AINVR" else "n/a"
        startup = "never" if r.startup_s is None else f"{r.startup_s:.1f}"
        cells = [r.system, str(r.streams), f"{r.cpu_per_stream():.2f}", f"{pss:.1f}", f"{rss:.1f}"]
        rows.append(cells + [f"{segments}/{expected * r.streams}", str(lost), gaps, f"{100 * footage:.1f} %", startup])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    rows.insert(1, ["-" * w for w in widths])
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    by = {r.system: r for r in results}
    for one, other in (("AINVR", "ffmpeg"), ("AINVR", "PyAV loop"), ("PyAV loop", "ffmpeg")):
        if {one, other} <= by.keys():
            lines.append(ratio_line(by[one], by[other]))
    return lines


def ratio_line(a: PhaseResult, b: PhaseResult) -> str:
    pairs = zip(a.memory_per_stream(), b.memory_per_stream(), strict=True)
    memory = [x / y if y else float("inf") for x, y in pairs]
    cpu = a.cpu_per_stream() / b.cpu_per_stream() if b.cpu_per_stream() else float("inf")
    return f"{a.system}/{b.system}: CPU {cpu:.1f}x, memory {memory[0]:.1f}x (PSS), {memory[1]:.1f}x (RSS)"


def details(r: PhaseResult, args) -> list[str]:
    m = r.meter
    lines = [
        f"{r.system}: steady window {m.seconds:.0f} s; the machine was {m.machine_pct():.0f} % of a core busy "
        f"in all (other users included)"
    ]
    for group in (*r.groups, "server", "bench"):
        n, pss, rss = m.mean_mb(group)
        if n:
            each = f" = {m.cpu_pct(group) / n:.2f} % and {pss / n:.1f} MB each" if n > 1 else ""
            lines.append(
                f"  {group:<10} {n:>4.0f} process(es): CPU {m.cpu_pct(group):6.2f} % of a core, "
                f"PSS {pss:7.1f} MB, RSS {rss:7.1f} MB{each}"
            )
    if r.system == "AINVR":
        share = m.cpu_pct("supervisor") + m.cpu_pct("helpers")
        mem = sum(m.mean_mb(g)[1] for g in ("supervisor", "helpers"))
        lines.append(f"  supervisor share per stream: {share / r.streams:.2f} % CPU, {mem / r.streams:.1f} MB PSS")
    startup_cpu = sum(m.startup_cpu_s(g) for g in r.groups)
    lines.append(
        f"  start-up: {startup_cpu:.1f} CPU-seconds before the steady window ({startup_cpu / r.streams:.2f} a stream)"
    )
    packets = sum(c.video_packets for c in r.checks.values())
    footage = sum(c.footage_s for c in r.checks.values())
    fps = [c.video_packets / c.footage_s for c in r.checks.values() if c.footage_s]
    lines.append(
        f"  received {packets / footage if footage else 0:.2f} fps per stream on average "
        f"(lowest {min(fps, default=0):.2f}; the server sends {args.fps})"
    )
    lines.append(f"  stopped {r.stop_s:.1f} s after SIGTERM; {r.processes_seen} process(es) seen")
    for note in r.notes:
        lines.append(f"  {note}")
    problems = [(slug, p) for slug, c in r.checks.items() for p in c.problems]
    gaps = [(slug, c) for slug, c in r.checks.items() if c.gaps]
    for slug, c in gaps:
        lines.append(f"  {slug}: {c.gaps} gap(s), {c.gap_s:.1f} s of footage lost")
    for slug, problem in problems[:20]:
        lines.append(f"  {slug}: {problem}")
    if len(problems) > 20:
        lines.append(f"  ... and {len(problems) - 20} more problems")
    return lines
