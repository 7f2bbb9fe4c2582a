"""Frames of recorded footage at a sampling rate, decoded with PyAV.

The segments are read in time order; within each, only the part inside the range is
decoded (a seek to the keyframe before it), and frames are converted to images only when
they are due on the sampling grid (range start + k / fps). When samples are at least a
GOP apart the decoder skips every frame but keyframes, which is several times cheaper
than decoding them all. When they are closer, each GOP (keyframe to keyframe) is decoded
only from its keyframe up to its last due frame: the rest of it is never needed, since the
next due frame can only be reached from the next keyframe. With a 2 s GOP at 1 sample/s
that skips about half of the frames.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np

log = logging.getLogger("detection.analysis")
# Frame times come from stream timestamps rounded to a time base: a frame this close before
# its due time is on time.
SLACK = timedelta(milliseconds=1)


@dataclass(frozen=True)
class SegmentFile:
    """What the sampler needs of a recordings.models.Segment (plain, picklable)."""

    id: int
    path: Path
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Sample:
    at: datetime  # wall-clock time of the frame
    image: np.ndarray  # BGR


def overlap_seconds(segment: SegmentFile, start: datetime, end: datetime) -> float:
    return max(0.0, (min(segment.end, end) - max(segment.start, start)).total_seconds())


def expected_samples(segments: list[SegmentFile], start: datetime, end: datetime, fps: float) -> int:
    """About how many samples the range gives: the progress denominator."""
    return max(1, round(sum(overlap_seconds(s, start, end) for s in segments) * fps))


def keyframe_interval(path: Path, *, keyframes: int = 4, max_packets: int = 2000) -> float | None:
    """Seconds between keyframes near the start of a file (demuxing only), or None."""
    import av

    times: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for n, packet in enumerate(container.demux(stream)):
            if n >= max_packets or len(times) >= keyframes:
                break
            if packet.is_keyframe and packet.pts is not None:
                times.append(float(packet.pts * cast(Fraction, stream.time_base)))
    if len(times) < 2:
        return None
    return float(np.median(np.diff(sorted(times))))


class FootageSampler:
    """Iterate `samples()` for the frames of `segments` due between `start` and `end`,
    one every 1 / `fps` seconds (the first frame at or after each due time). Images are
    scaled down to at most `max_width` pixels wide. Unreadable files are logged and skipped
    (`skipped` lists them): one damaged file must not sink an hour's analysis.

    `deblock=False` skips H.264/H.265's in-loop deblocking filter: cheaper decoding
    (bench/README.md, "Fourth session: any input size, ..."), and images that only a person
    looking closely would tell apart (block edges at low bitrates, drifting a little through
    each GOP). For samples that only the detector sees; an annotated video, which people
    watch, keeps it."""

    def __init__(
        self,
        segments: list[SegmentFile],
        *,
        start: datetime,
        end: datetime,
        fps: float,
        max_width: int = 1280,
        keyframes_only: bool | None = None,
        deblock: bool = True,
    ):
        self.segments = sorted(segments, key=lambda s: s.start)
        self.start, self.end = start, end
        self.interval = 1.0 / fps
        self.max_width = max_width
        self.keyframes_only = keyframes_only  # None: decide per file from its GOP
        self.deblock = deblock
        self.skipped: list[str] = []
        self.decoded_keyframes_only = 0
        self.decoded_frames = 0  # frames out of the decoder, kept or not
        self._k = 0  # index of the next due time on the grid
        self._gop: float | None = None  # seconds between keyframes, once measured

    def _due(self) -> datetime:
        return self.start + timedelta(seconds=self._k * self.interval)

    def _advance_past(self, at: datetime) -> None:
        # The epsilon keeps 6.0 / 0.2 = 29.999... from counting the same slot twice.
        self._k = math.floor((at - self.start).total_seconds() / self.interval + 1e-6) + 1

    def samples(self) -> Generator[Sample, None, None]:
        for segment in self.segments:
            if segment.end <= self.start or segment.start >= self.end:
                continue
            try:
                yield from self._segment_samples(segment)
            except Exception as e:  # PyAV raises its own errors for damaged files
                log.warning("analysis: skipping unreadable recording %s (%s)", segment.path, e)
                self.skipped.append(str(segment.path))

    def _segment_samples(self, segment: SegmentFile) -> Iterator[Sample]:
        import av

        if not segment.path.exists():
            raise FileNotFoundError(f"{segment.path} is missing")
        skip_nonkey = self.keyframes_only
        if skip_nonkey is None:
            # A camera keeps its GOP: measured on the first readable file only (each
            # measurement is one more open of a fragmented MP4).
            if self._gop is None:
                self._gop = keyframe_interval(segment.path) or 0.0
            skip_nonkey = self._gop > 0 and self.interval >= self._gop - 1e-3
        with av.open(str(segment.path)) as container:
            stream = container.streams.video[0]
            # Slice threads, not frame threads: a frame thread holds each frame back until
            # the others have one, so reaching a due frame took more decoded frames (and the
            # threads' hand-offs more CPU; bench/README.md, "Fourth session: any input size,
            # ..."); slices cost nothing when a stream has one.
            stream.thread_type = "SLICE"
            if not self.deblock:
                stream.codec_context.options = {"skip_loop_filter": "all"}
            if skip_nonkey:
                stream.codec_context.skip_frame = "NONKEY"
                self.decoded_keyframes_only += 1
            tb = cast(Fraction, stream.time_base)  # set for every demuxed stream
            zero = float(stream.start_time * tb) if stream.start_time is not None else 0.0
            into = (max(self._due(), self.start) - segment.start).total_seconds()
            if into > 1.0:
                # To the keyframe before the first due frame: nothing earlier is decoded.
                container.seek(int((zero + into - 0.5) / tb), stream=stream, backward=True, any_frame=False)
            frames = container.decode(stream) if skip_nonkey else self._needed_frames(container, stream, segment, zero)
            for frame in frames:
                self.decoded_frames += 1
                if frame.pts is None:
                    continue
                at = segment.start + timedelta(seconds=float(frame.pts * tb) - zero)
                if at >= self.end or at >= segment.end + timedelta(seconds=self.interval):
                    return
                if at < self._due() - SLACK or at < self.start:
                    continue
                self._advance_past(at)
                yield Sample(at=at, image=self._image(frame))

    def _needed_frames(self, container, stream, segment: SegmentFile, zero: float) -> Iterator:
        """The frames of the GOPs holding a due time, each decoded from its keyframe up to
        the frame taken for its last due time. A GOP's packets are held (not decoded) until
        the next keyframe tells where it ends. The caller takes each frame, and advances the
        grid, before the next one is asked for: the due time read here is always current."""
        tb = stream.time_base
        held: list = []
        for packet in container.demux(stream):
            if packet.dts is None and packet.size == 0:
                continue  # the demuxer's end-of-stream marker: flushed below
            if packet.is_keyframe and packet.pts is not None and held:
                next_key = segment.start + timedelta(seconds=float(packet.pts * tb) - zero)
                yield from self._decode_until(held, next_key)
                held = []
            held.append(packet)
        yield from self._decode_until(held, None)
        yield from stream.codec_context.decode(None)  # frames the decoder still holds

    def _decode_until(self, packets: list, next_key: datetime | None) -> Iterator:
        """Decode `packets` (one GOP) while a due time falls before `next_key` (None: the
        file's last GOP, where every due time may)."""
        for packet in packets:
            if next_key is not None and self._due() >= next_key:
                return  # every sample of this GOP is taken (or none falls in it)
            if self._due() >= self.end:
                return
            yield from packet.decode()

    def _image(self, frame) -> np.ndarray:
        width, height = frame.width, frame.height
        if width > self.max_width:
            height = max(2, round(height * self.max_width / width / 2) * 2)
            width = self.max_width
            return frame.to_ndarray(format="bgr24", width=width, height=height)
        return frame.to_ndarray(format="bgr24")
