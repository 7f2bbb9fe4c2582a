"""Checking recorded files: playable, on keyframes, no gaps."""

# ruff: noqa: S603  (the benchmark runs only commands it builds itself)

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass
class StreamCheck:
    files: int = 0
    good: int = 0
    problems: list[str] = field(default_factory=list)
    footage_s: float = 0.0
    video_packets: int = 0
    gaps: int = 0
    gap_s: float = 0.0


def inspect_file(path: Path, frame_s: float) -> tuple[str, float, int]:
    """(problem or "", seconds of video, video packets) of one recorded file."""
    import av

    first_key, lowest, highest, packets = None, None, None, 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "no video stream", 0.0, 0
            video = container.streams.video[0]
            for packet in container.demux(video):
                if packet.pts is None or packet.size == 0:
                    continue
                if first_key is None:
                    first_key = packet.is_keyframe
                packets += 1
                lowest = packet.pts if lowest is None else min(lowest, packet.pts)
                highest = packet.pts if highest is None else max(highest, packet.pts)
            seconds = float((highest - lowest) * video.time_base) + frame_s if packets else 0.0
    except Exception as e:  # any failure to read is what this check looks for
        return f"does not open: {type(e).__name__}: {e}", 0.0, 0
    if not packets:
        return "no video packets", 0.0, 0
    return ("" if first_key else "does not start with a keyframe"), seconds, packets


def check_files(files: list[Path], frame_s: float, root: Path) -> StreamCheck:
    check = StreamCheck(files=len(files))
    for path in files:
        problem, seconds, packets = inspect_file(path, frame_s)
        check.footage_s += seconds
        check.video_packets += packets
        if problem:
            check.problems.append(f"{path.relative_to(root)}: {problem}")
        else:
            check.good += 1
    return check


def check_gaps(check: StreamCheck, spans: list[tuple[datetime, datetime]], gop_s: float, frame_s: float) -> None:
    """A camera's consecutive segments must join within one GOP; a longer gap is lost footage."""
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        gap = (start - end).total_seconds()
        if gap > gop_s + frame_s / 2:
            check.gaps += 1
            check.gap_s += gap
        elif gap < -frame_s / 2:
            check.problems.append(f"segments overlap by {-gap:.2f} s at {start:%H:%M:%S}")
