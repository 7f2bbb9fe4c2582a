"""What a recorded file holds, read by demuxing it (nothing decoded): start, length, codec,
size. Django-free: capture processes salvage a half-written file with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import cast

log = logging.getLogger("ainvr.reconcile")


class UnreadableRecording(Exception):
    """The file cannot be opened as a video container."""


@dataclass(frozen=True)
class RecordingProbe:
    start: datetime | None  # from the `comment` metadata; None when absent or not a timezone-aware date
    duration: float  # seconds of video, from the first packet's pts to the last one's end
    codec: str
    width: int | None
    height: int | None


def probe_recording(path: Path) -> RecordingProbe | None:
    """Read a recording's start, exact duration, codec and size by demuxing every packet
    (nothing is decoded). None when it holds no complete video packet.

    A crash-truncated fragmented MP4 demuxes up to its last complete packet; a packet cut
    short by the end of the file does not count. Raises UnreadableRecording when the file
    is not a container PyAV can open, OSError when it cannot be read at all.
    """
    import av

    file_size = path.stat().st_size
    if file_size == 0:
        return None
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as e:
        if isinstance(e, OSError) and not isinstance(e, av.error.EOFError):
            raise  # permission denied, file gone...: not the file's fault
        raise UnreadableRecording(str(e)) from e
    with container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        time_base = cast(Fraction, stream.time_base)  # set for every demuxed stream
        default_ticks = max(1, round(1 / (rate * time_base))) if rate else 1
        first = last_end = None
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.is_corrupt:
                    continue
                if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size > file_size:
                    continue  # cut short by the end of the file
                end = packet.pts + (packet.duration or default_ticks)
                first = packet.pts if first is None else min(first, packet.pts)
                last_end = end if last_end is None else max(last_end, end)
        except av.error.FFmpegError as e:
            log.debug("reconcile: %s: demuxing stopped early: %s", path, e)
        if first is None or last_end is None:  # both or neither
            return None
        ctx = stream.codec_context
        return RecordingProbe(
            start=_metadata_start(container.metadata.get("comment")),
            duration=float((last_end - first) * time_base),
            codec=ctx.name or "",
            width=ctx.width or None,
            height=ctx.height or None,
        )


def _metadata_start(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None
