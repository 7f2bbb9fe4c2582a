"""Capture: one camera's stream read with PyAV, its packets handed to the recorder.

`CaptureWorker.step()` does one small piece of work (open the stream, or move one
packet) and returns; the process loop calls it until asked to stop, and tests drive it
packet by packet. The stream opener, the clocks and the sinks are passed in.

Nothing here needs Django set up: a capture process sends its status and closed segments
to the supervisor (pipeline.reports), which writes them. Each process then costs PyAV and
the stream, not a Django installation (bench/README.md, "After the capture processes lost
Django").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cameras.probe import explain, open_stream
from cameras.url_text import local_path
from pipeline.reconnect import Backoff, ReconnectPolicy, probe_address, tcp_probe
from pipeline.specs import CameraSpec, CameraStates
from recordings.segments import ClosedSegment, RecordingWriteError, SegmentWriter

if TYPE_CHECKING:
    from pipeline.detect_stream import FrameSampler
    from pipeline.live.relay import LiveRelay

log = logging.getLogger("ainvr.capture")


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_file_source(url: str) -> bool:
    return local_path(url) is not None


class StatusReporter:
    """Writes the camera's status to the database: at once when the state changes, and
    otherwise every `refresh_s` (last frame time, measured fps), not once per frame."""

    def __init__(
        self,
        camera_id: int,
        *,
        write: Callable[[int, str, dict[str, Any]], None],
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_frames: Callable[[int], None] | None = None,
    ):
        self.camera_id = camera_id
        self.on_frames = on_frames  # called with the frames counted at each refresh (metrics)
        self.refresh_s = refresh_s
        self.clock = clock
        self._write = write
        self.state: str | None = None
        self._last_write = 0.0
        self._frames = 0
        self._window_start = 0.0

    def frame(self) -> None:
        self._frames += 1
        now = self.clock()
        if self.state == CameraStates.ONLINE and now - self._last_write >= self.refresh_s:
            self._report(CameraStates.ONLINE, fps=self._fps(now))

    def online(self, *, codec: str, width: int | None, height: int | None) -> None:
        self._frames = 0
        self._window_start = self.clock()
        self._report(CameraStates.ONLINE, codec=codec, width=width, height=height, last_error="")

    def offline(self, reason: str) -> None:
        if self.state != CameraStates.OFFLINE or reason:
            self._report(CameraStates.OFFLINE, last_error=reason, fps=None)

    def error(self, reason: str) -> None:
        self._report(CameraStates.ERROR, last_error=reason, fps=None)

    def _fps(self, now: float) -> float | None:
        elapsed = now - self._window_start
        fps = round(self._frames / elapsed, 2) if elapsed > 0 else None
        if self.on_frames is not None and self._frames:
            self.on_frames(self._frames)
        self._frames, self._window_start = 0, now
        return fps

    def _report(self, state: str, **fields: Any) -> None:
        self.state = state
        self._last_write = self.clock()
        if state == CameraStates.ONLINE:
            fields["last_frame_at"] = utc_now()
        try:
            self._write(self.camera_id, state, fields)
        except Exception:  # the database being away must not stop recording
            log.warning("camera %s: could not write its status", self.camera_id, exc_info=True)


class CaptureWorker:
    """One camera: connect, remux every packet into segments, reconnect when the stream
    drops. File sources are played at their own pace and looped (the demo camera)."""

    def __init__(
        self,
        spec: CameraSpec,
        *,
        recordings_root: Path,
        open_source: Callable[..., Any] = open_stream,
        status: StatusReporter,
        on_segment: Callable[[int, ClosedSegment], None],
        on_disk_full: Callable[[int, object], None],
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        open_timeout: float = 5.0,
        read_timeout: float = 5.0,
        live: LiveRelay | None = None,
        sampler: FrameSampler | None = None,
        on_reconnected: Callable[[], None] | None = None,
        probe: Callable[[tuple[str, int]], bool] = tcp_probe,
    ):
        self.spec = spec
        self.on_reconnected = on_reconnected  # metrics: the stream was opened again
        self.live = live  # a pipeline.live.relay.LiveRelay, or None
        self.sampler = sampler  # a pipeline.detect_stream.FrameSampler fed from this stream, or None
        self.recordings_root = recordings_root
        self.open_source = open_source
        self.status = status
        self.on_segment = on_segment
        self.on_disk_full = on_disk_full
        self.backoff = backoff or Backoff()
        self.monotonic = monotonic
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.writer: SegmentWriter | None = None
        self.segments_closed = 0
        self.reconnects = 0
        self._container: Any = None  # the open av InputContainer
        self._packets: Any = None  # its demux() iterator
        self._video: Any = None  # its av VideoStream
        self.open_attempts = 0  # full opens of the stream (what a camera feels)
        self._file_source = is_file_source(spec.main_url)  # asked for every packet
        address = None if self._file_source else probe_address(spec.main_url)
        self.reconnect = ReconnectPolicy(address, backoff=self.backoff, probe=probe)
        self._down_since: float | None = None  # monotonic time the current outage began
        self._pace: tuple[float, int] | None = None  # (monotonic at first packet, first dts) for file sources
        self._opened_before = False

    # --- the loop -----------------------------------------------------------------
    def step(self) -> bool:
        """Open the stream if needed, else move one packet. True when there was work."""
        if self._container is None:
            return self._connect()
        return self._pump()

    def stop(self) -> None:
        """Finish the segment being written, let go of the stream, and say so."""
        self._disconnect(reason="", report=False)
        self.status.offline("Not being recorded: the workers stopped.")

    # --- internals ----------------------------------------------------------------
    def _connect(self) -> bool:
        now = self.monotonic()
        if not self.reconnect.ready(now):
            self.sleep(min(0.2, self.reconnect.wait(self.monotonic())))
            return False
        url = self.spec.main_url
        self.open_attempts += 1
        # The recording's clock: when the stream was asked for. Its first packet arrives a
        # handshake later, and opening returns only after probing has read about half a
        # second more: timed from then, every segment was stamped that much late.
        asked_at = self.wall_clock()
        try:
            container = self.open_source(url, open_timeout=self.open_timeout, read_timeout=self.read_timeout)
        except Exception as e:
            self._failed(_explain(e, url, self.open_timeout))
            return False
        if not container.streams.video:
            container.close()
            self._failed("The stream has no video.")
            return False
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        self._container, self._video = container, video
        self._packets = container.demux(*[s for s in (video, audio) if s is not None])
        self._pace = None
        if self.spec.record:
            self.writer = self.writer or SegmentWriter(
                root=self.recordings_root,
                camera_slug=self.spec.slug,
                segment_seconds=self.spec.segment_seconds,
                on_closed=self._closed,
            )
            try:
                self.writer.begin(video, audio, wall_clock=asked_at)
            except RecordingWriteError as e:
                self._disconnect(reason=str(e))
                self.status.error(str(e))
                return False
        if self.live is not None:
            self.live.begin(video)
        if self.sampler is not None:
            self.sampler.begin(video)
        if self._opened_before and self.on_reconnected is not None and not self._file_source:
            self.on_reconnected()
        self._opened_before = True
        ctx = video.codec_context
        self.status.online(codec=ctx.name, width=ctx.width or None, height=ctx.height or None)
        log.info("%s: connected (%s %sx%s)", self.spec.slug, ctx.name, ctx.width, ctx.height)
        return True

    def _pump(self) -> bool:
        try:
            packet = next(self._packets)
        except StopIteration:
            if self._file_source:
                # The demo clip: play it again, as a new connection.
                self._disconnect(reason="", report=False)
                return True
            self._disconnect(reason="The camera ended the stream (disconnected).")
            return False
        except Exception as e:
            self._disconnect(reason=_explain(e, self.spec.main_url, self.read_timeout))
            return False
        if packet.dts is None and packet.pts is None and packet.size == 0:
            return True  # a flush packet at the end of a stream
        if self._file_source:
            self._keep_pace(packet)
        if packet.stream.type == "video":
            if self._down_since is not None:
                self._back(self._down_since)
            self.status.frame()
        if self.live is not None:
            self.live.write(packet)  # before the recorder, which moves the packet to its file
        if self.sampler is not None:
            self.sampler.feed(packet)
        if self.writer is not None:
            try:
                self.writer.write(packet)
            except RecordingWriteError as e:
                log.error("%s: %s", self.spec.slug, e)
                self._on_write_error(e)
        return True

    def _keep_pace(self, packet: Any) -> None:  # an av Packet
        """Play a file in real time, as a camera would send it."""
        if packet.stream.type != "video" or packet.dts is None:
            return
        if self._pace is None:
            self._pace = (self.monotonic(), packet.dts)
            return
        started, first_dts = self._pace
        due = started + float((packet.dts - first_dts) * packet.time_base)
        delay = due - self.monotonic()
        if delay > 0:
            self.sleep(delay)

    def _closed(self, closed: ClosedSegment) -> None:
        self.segments_closed += 1
        try:
            self.on_segment(self.spec.id, closed)
        except Exception:
            # The file is safe on disk; reconcile at the next start adds its row.
            log.exception("%s: could not record segment %s", self.spec.slug, closed.relative_path)

    def _on_write_error(self, error: RecordingWriteError) -> None:
        """A full disk must not stop the newest footage: free space, then carry on at the
        next keyframe (the writer has already closed the failed file)."""
        try:
            self.on_disk_full(self.spec.id, self.recordings_root)
        except Exception:
            log.exception("%s: freeing disk space failed", self.spec.slug)
        self.status.error(str(error))

    def _failed(self, reason: str) -> None:
        now = self.monotonic()
        delay = self.reconnect.failed(now)
        self.reconnects += 1
        self.status.offline(reason)
        if self._down_since is None:  # once per outage: a camera away for an hour is one line, not 3,600
            self._down_since = now
            log.warning("%s: %s (trying again until it is back)", self.spec.slug, reason)
        else:
            log.debug("%s: %s (next open in %.1f s at the earliest)", self.spec.slug, reason, delay)

    def _back(self, down_since: float) -> None:
        """Video flows again after an outage (that began at `down_since`, monotonic)."""
        log.info("%s: back after %.1f s", self.spec.slug, self.monotonic() - down_since)
        self._down_since = None
        self.reconnect.connected()

    def _disconnect(self, *, reason: str, report: bool = True) -> None:
        if self.live is not None:
            self.live.stop()
        if self.writer is not None:
            try:
                self.writer.close()
            except RecordingWriteError as e:
                log.error("%s: %s", self.spec.slug, e)
                self._on_write_error(e)
        container, self._container, self._packets = self._container, None, None
        if container is not None:
            try:
                container.close()
            except Exception:
                log.debug("closing the stream failed", exc_info=True)
        if report and reason:
            self._failed(reason)


def _explain(exc: BaseException, url: str, timeout_s: float) -> str:

    return explain(exc, url, timeout_s)
