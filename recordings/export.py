"""One MP4 from a time range of a camera's segments, remuxed (never re-encoded).

The export starts at the last keyframe at or before the asked start (a player cannot
begin elsewhere without decoding) and stops after the asked end. Timestamps are laid
out on the wall clock, so a gap in the recording stays a gap of the same length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger("ainvr.export")

EXPORT_OPTIONS = {"movflags": "+faststart"}  # moov first: opens at once in any player


class NothingToExport(Exception):
    """No playable footage in the range."""


@dataclass
class ExportResult:
    path: Path
    segments: int
    packets: int
    skipped: list[str]  # segments left out (unreadable, or another codec or size)


def _shape(stream) -> tuple:
    ctx = stream.codec_context
    return (ctx.name, ctx.width, ctx.height)


def export_mp4(segments, *, root: Path, start: datetime, end: datetime, dest: Path) -> ExportResult:
    """Write the footage of `segments` (ordered by start) between start and end to `dest`."""
    import av

    out = None
    out_video = out_audio = None
    shape = None
    t0 = None  # wall time of output time 0: the first keyframe used
    last_dts: dict[str, int] = {}
    packets = used = 0
    skipped: list[str] = []
    try:
        for segment in segments:
            try:
                source = av.open(str(Path(root) / segment.path))
            except (OSError, av.FFmpegError) as e:
                log.warning("export: skipping unreadable %s: %s", segment.path, e)
                skipped.append(segment.path)
                continue
            with source:
                if not source.streams.video:
                    skipped.append(segment.path)
                    continue
                video = source.streams.video[0]
                audio = source.streams.audio[0] if source.streams.audio else None
                if out is None:
                    out = av.open(str(dest), mode="w", format="mp4", options=EXPORT_OPTIONS)
                    out_video = out.add_stream_from_template(video)
                    if audio is not None:
                        out_audio = out.add_stream_from_template(audio)
                    shape = _shape(video)
                elif _shape(video) != shape:
                    skipped.append(segment.path)
                    continue
                wrote = _copy_segment(
                    source, segment, video, audio, out, out_video, out_audio, start, end, t0, last_dts
                )
                if wrote is None:
                    continue
                t0, n = wrote
                packets += n
                used += n > 0
    finally:
        if out is not None:
            out.close()
    if packets == 0:
        dest.unlink(missing_ok=True)
        raise NothingToExport("There is no playable footage in that range.")
    return ExportResult(path=dest, segments=used, packets=packets, skipped=skipped)


def _copy_segment(source, segment, video, audio, out, out_video, out_audio, start, end, t0, last_dts):
    """Mux the packets of one open segment; returns (t0, packets written)."""
    seg_start = segment.start
    pending = []  # video and audio since the last keyframe before `start`, first segment only
    started = t0 is not None
    written = 0
    streams = [video] + ([audio] if audio is not None and out_audio is not None else [])
    for packet in source.demux(streams):
        if packet.dts is None or packet.pts is None:
            continue
        is_video = packet.stream.index == video.index
        tb = packet.stream.time_base
        at = seg_start.timestamp() + float(packet.pts * tb)
        if at >= end.timestamp():  # the end is exclusive
            if is_video:
                break
            continue
        if not started:
            if is_video and packet.is_keyframe and at <= start.timestamp():
                pending = [packet]
            elif pending or (is_video and packet.is_keyframe):
                pending.append(packet)
            if at < start.timestamp():
                continue
            if not pending:
                continue
            first = pending[0]
            t0 = seg_start.timestamp() + float(first.pts * first.stream.time_base)
            started = True
            batch, pending = pending, []
        else:
            batch = [packet]
        for p in batch:
            p_is_video = p.stream.index == video.index
            p_tb = p.stream.time_base
            offset = round((seg_start.timestamp() - t0) / p_tb)
            dts, pts = p.dts + offset, p.pts + offset
            key = "v" if p_is_video else "a"
            if dts < 0:
                continue  # audio from before the first keyframe
            if key in last_dts and dts <= last_dts[key]:
                dts = last_dts[key] + 1
                pts = max(pts, dts)
            last_dts[key] = dts
            p.dts, p.pts = dts, pts
            p.stream = out_video if p_is_video else out_audio
            out.mux(p)
            written += 1
    if not started:
        return None
    return t0, written
