"""Recording by remuxing: a camera's packets go into MP4 files as they came, never
decoded or re-encoded.

Files are fragmented MP4 (an empty moov up front, then self-contained fragments): a
process killed mid-file leaves everything up to its last fragment playable, where a
classic MP4 would be unreadable without its final moov. Fragments are cut at every
keyframe and at least every second, so a crash loses about a second.

Layout: ``<root>/<camera>/<YYYY-MM-DD>/<HH-MM-SS>.mp4``, the date and time of the
segment's first frame in UTC (UTC, so the hour repeated when clocks go back cannot make
two files one name). The exact start is also written into the file's ``comment``
metadata, which reconcile reads after a crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from recordings.media_info import UnreadableRecording, probe_recording

log = logging.getLogger("ainvr.recording")

MP4_OPTIONS = {
    "movflags": "+frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",  # microseconds: a fragment at least every second
    # Hand each finished fragment to the OS at once instead of holding up to 32 KB in
    # FFmpeg's buffer: what a crash leaves is then everything but the last second.
    "flush_packets": "1",
}
# Audio codecs the MP4 muxer takes as they are; others (G.711 from many cameras) are dropped.
MP4_AUDIO_CODECS = {"aac", "mp3", "alac", "opus", "flac", "ac3", "eac3"}
MP4_VIDEO_CODECS = {"h264", "hevc", "mjpeg", "av1", "vp9", "mpeg4"}


class RecordingWriteError(Exception):
    """The file could not be written (a full disk, a missing folder); the segment is closed."""


@dataclass(frozen=True)
class ClosedSegment:
    path: Path
    relative_path: str
    start: datetime
    end: datetime
    size_bytes: int
    codec: str
    width: int | None
    height: int | None

    @property
    def duration(self) -> float:
        return (self.end - self.start).total_seconds()


def create_segment_file(root: Path, camera_slug: str, start: datetime) -> Path:
    """Create the (empty) file of a segment starting at `start` and return its path.

    Created with O_CREAT|O_EXCL: the name is ours alone even when another writer (another
    host, a process still closing) starts a segment in the same second; a taken name moves
    on to ``HH-MM-SS-2.mp4`` and so on. Raises OSError when the folder cannot be made or
    written."""
    moment = start.astimezone(UTC)
    folder = root / camera_slug / f"{moment:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{moment:%H-%M-%S}"
    n = 1
    while True:
        path = folder / (f"{stem}.mp4" if n == 1 else f"{stem}-{n}.mp4")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            n += 1
            continue
        os.close(fd)
        return path


class _StreamClock:
    """Timestamps of one input stream: fills in missing ones and keeps dts increasing."""

    def __init__(self, time_base: Fraction, default_ticks: int):
        self.time_base = time_base
        self.step = max(1, default_ticks)  # the usual distance between packets, learnt as they come
        self.last_dts: int | None = None

    def fix(self, packet) -> bool:
        """Give `packet` usable pts/dts. False when it has none and none can be inferred yet."""
        pts, dts = packet.pts, packet.dts
        if dts is None and pts is None:
            if self.last_dts is None:
                return False
            dts = pts = self.last_dts + self.step
        elif dts is None:
            dts = pts
        elif pts is None:
            pts = dts
        if self.last_dts is not None:
            delta = dts - self.last_dts
            if delta <= 0:
                dts = self.last_dts + 1
            elif delta < 10 * self.step:
                self.step = delta
        pts = max(pts, dts)
        packet.pts, packet.dts = pts, dts
        self.last_dts = dts
        return True


class SegmentWriter:
    """Writes one camera's packets into consecutive MP4 segments.

    Call `begin(video, audio, wall_clock=when_asked)` for each new connection, then
    `write(packet)` for every demuxed packet, and `close()` when the connection ends or the
    worker stops. Each finished file is passed to `on_closed`. A segment begins at a video
    keyframe once `segment_seconds` have passed, so lengths vary by up to one GOP.
    """

    def __init__(
        self,
        *,
        root: Path,
        camera_slug: str,
        segment_seconds: float,
        on_closed: Callable[[ClosedSegment], None],
    ):
        self.root = Path(root)
        self.camera_slug = camera_slug
        self.segment_seconds = segment_seconds
        self.on_closed = on_closed
        self.packets_written = 0
        self.packets_dropped = 0
        self._video: Any = None  # the input's av.VideoStream, from begin() on
        self._audio: Any = None  # its av.AudioStream, if any
        self._clocks: dict[int, _StreamClock] = {}
        self._held: dict[int, Any] = {}  # av.Packets waiting for a timestamp
        self._last_end: datetime | None = None
        self._anchor: datetime | None = None
        self._anchor_dts: int | None = None
        self._out: Any = None  # the open segment's av OutputContainer

    # --- connection ---------------------------------------------------------------
    def begin(self, video, audio=None, *, wall_clock: datetime) -> None:
        """Start a new connection. `wall_clock` is when its first packet was sent: when the
        stream was asked for (the camera sends the frame it is making once asked)."""
        self.close()
        if video.codec_context.name not in MP4_VIDEO_CODECS:
            raise RecordingWriteError(f"{video.codec_context.name} video cannot go into MP4")
        self._video = video
        if audio is not None and audio.codec_context.name not in MP4_AUDIO_CODECS:
            log.info("%s: %s audio is not recorded (MP4 cannot hold it)", self.camera_slug, audio.codec_context.name)
            audio = None
        self._audio = audio
        self._clocks = {}
        self._held = {}
        for stream in (video, audio):
            if stream is not None:
                self._clocks[stream.index] = _StreamClock(stream.time_base, _default_ticks(stream))
        # A new connection never starts before the last one ended (a looped file's last
        # frame is still "playing" when it is opened again).
        self._anchor = max(wall_clock, self._last_end) if self._last_end else wall_clock
        self._anchor_dts = None

    # --- packets ------------------------------------------------------------------
    def write(self, packet) -> ClosedSegment | None:
        """Remux one packet; returns the segment this packet closed, if any."""
        stream = packet.stream
        if stream is None or stream.index not in self._clocks or packet.size == 0:
            return None
        clock = self._clocks[stream.index]
        if not clock.fix(packet):
            # RTSP's first packet (the keyframe) may come with no timestamp: keep it until
            # the next one tells us where it was, instead of losing a whole GOP.
            self._held.setdefault(stream.index, packet)
            return None
        held = self._held.pop(stream.index, None)
        closed = None
        if held is not None:
            held.dts = held.pts = packet.dts - clock.step
            closed = self._write_timed(held)
        return self._write_timed(packet) or closed

    def _write_timed(self, packet) -> ClosedSegment | None:
        stream = packet.stream
        is_video = stream.index == self._video.index
        if is_video and self._anchor_dts is None:
            self._anchor_dts = packet.dts
        closed = None
        if is_video and packet.is_keyframe and self._segment_is_due(packet.dts):
            closed = self._close_current(end_dts=packet.dts)
            self._open(packet.dts)
        if self._out is None:
            self.packets_dropped += 1  # waiting for the first keyframe
            return closed
        self._mux(packet, is_video)
        return closed

    def close(self) -> ClosedSegment | None:
        """Finish the current file (end of connection, or stopping)."""
        return self._close_current(end_dts=None)

    # --- internals ----------------------------------------------------------------
    def _segment_is_due(self, dts: int) -> bool:
        if self._out is None:
            return True
        elapsed = (dts - self._seg_start_dts) * self._video.time_base
        return elapsed >= self.segment_seconds

    def _wall_time(self, dts: int) -> datetime:
        anchor, anchor_dts = self._anchor, self._anchor_dts
        if anchor is None or anchor_dts is None:
            raise RuntimeError("no packet was written since begin()")  # _write_timed sets both first
        seconds = float((dts - anchor_dts) * self._video.time_base)
        return anchor + timedelta(seconds=seconds)

    def _open(self, keyframe_dts: int) -> None:
        import av

        start = self._wall_time(keyframe_dts)
        path = None
        try:
            path = create_segment_file(self.root, self.camera_slug, start)
            out = av.open(str(path), mode="w", format="mp4", options=MP4_OPTIONS)  # the file we created
        except OSError as e:
            if path is not None:
                path.unlink(missing_ok=True)
            where = path or self.root / self.camera_slug
            raise RecordingWriteError(f"cannot create {where}: {e.strerror or e}") from e
        out.metadata["comment"] = start.astimezone(UTC).isoformat(timespec="microseconds")
        self._out = out
        self._path = path
        self._seg_start = start
        self._seg_start_dts = keyframe_dts
        self._seg_last_video_end = keyframe_dts
        self._out_streams = {self._video.index: out.add_stream_from_template(self._video)}
        if self._audio is not None:
            self._out_streams[self._audio.index] = out.add_stream_from_template(self._audio)
        # Each stream is rebased to the segment's first keyframe, converted to its own time base.
        t0 = keyframe_dts * self._video.time_base
        self._bases = {index: int(t0 / self._clocks[index].time_base) for index in self._out_streams}
        self._last_out_dts: dict[int, int] = {}
        self._seg_payload = 0  # bytes of packets muxed: the file can be no smaller

    def _mux(self, packet, is_video: bool) -> None:
        index = packet.stream.index
        base = self._bases[index]
        dts, pts = packet.dts - base, packet.pts - base
        if dts < 0:
            return  # audio from just before the keyframe the segment starts with
        last = self._last_out_dts.get(index)
        if last is not None and dts <= last:
            dts = last + 1
            pts = max(pts, dts)
        self._last_out_dts[index] = dts
        if is_video:
            self._seg_last_video_end = packet.dts + (packet.duration or self._clocks[index].step)
        packet.dts, packet.pts = dts, pts
        packet.stream = self._out_streams[index]
        self._seg_payload += packet.size
        try:
            self._out.mux(packet)
        except OSError as e:
            self._abandon()
            raise RecordingWriteError(f"cannot write {self._path}: {e.strerror or e}") from e
        self.packets_written += 1

    def _close_current(self, *, end_dts: int | None) -> ClosedSegment | None:
        if self._out is None:
            return None
        out, path = self._out, self._path
        self._out = None
        try:
            out.close()
        except OSError as e:
            log.warning("%s: finishing %s failed (%s): keeping what reached the disk", self.camera_slug, path, e)
            return self._salvage(path)
        end_dts = end_dts if end_dts is not None else self._seg_last_video_end
        if end_dts <= self._seg_start_dts:
            # A keyframe alone and nothing after it: not a recording worth a row.
            path.unlink(missing_ok=True)
            return None
        end = self._wall_time(end_dts)
        if os.path.getsize(path) < self._seg_payload:
            # FFmpeg does not always report a failed write (a full disk): a file smaller than
            # the packets muxed into it lost some. Index what is there; the caller frees space.
            self._salvage(path)
            raise RecordingWriteError(f"{path} is shorter than what was written to it (is the disk full?)")
        return self._closed(path, end)

    def _closed(self, path: Path, end: datetime) -> ClosedSegment:
        ctx = self._video.codec_context
        closed = ClosedSegment(
            path=path,
            relative_path=path.relative_to(self.root).as_posix(),
            start=self._seg_start,
            end=end,
            size_bytes=os.path.getsize(path),
            codec=ctx.name,
            width=ctx.width or None,
            height=ctx.height or None,
        )
        self._last_end = closed.end
        self.on_closed(closed)
        return closed

    def _salvage(self, path: Path) -> ClosedSegment | None:
        """A file whose writing failed (a full disk): keep the part that reached the disk,
        with its true length, or drop the file when no frame made it."""
        try:
            probe = probe_recording(path)
        except (UnreadableRecording, OSError):
            probe = None
        if probe is None or probe.duration <= 0:
            path.unlink(missing_ok=True)
            return None
        return self._closed(path, self._seg_start + timedelta(seconds=probe.duration))

    def _abandon(self) -> None:
        out, self._out = self._out, None
        try:
            out.close()
        except Exception:  # the disk that failed the write may fail the close too
            log.debug("closing after a write error failed", exc_info=True)
        try:
            self._salvage(self._path)
        except Exception:
            log.exception("%s: could not keep the start of %s", self.camera_slug, self._path)


def _default_ticks(stream) -> int:
    """One frame (or audio packet) in the stream's time base, as a first guess."""
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        if rate:
            return max(1, round(1 / (rate * stream.time_base)))
    elif stream.type == "audio" and stream.codec_context.sample_rate:
        return max(1, round(Fraction(1024, stream.codec_context.sample_rate) / stream.time_base))
    return max(1, round(Fraction(1, 25) / stream.time_base))
