"""Live video for browsers: the camera's packets muxed (not re-encoded) into fragmented
MP4 and published per camera through the channel layer, for Media Source Extensions.

A viewer sees video at once, not at the camera's next keyframe (which may be seconds away):
the relay always holds the packets since the last keyframe (references, not copies), so the
first viewer gets that GOP replayed at once, and a viewer who joins while others watch gets
the init segment and the GOP's fragments sent to it alone (a "catch-up"). A joining viewer
announces itself on a Redis pub/sub channel, which the relay reads without blocking a few
times a second; a "watching" key that viewers keep alive tells it when the last one left.
While no one watches, the relay muxes nothing and publishes nothing.

The init carries `epoch`: the wall-clock time (Unix seconds) of media time 0, so a browser
can place detections, which carry the wall-clock time of their frame, on the video's own
timeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from recordings.codecs import mse_codec

if TYPE_CHECKING:
    from pipeline.live.channel import RedisLiveChannel

log = logging.getLogger("ainvr.live")

LIVE_OPTIONS = {
    "movflags": "+frag_every_frame+empty_moov+default_base_moof",
    "flush_packets": "1",
}
# A GOP longer than this is not held (cameras set to 10+ s keyframe intervals): new viewers
# then wait for the next keyframe, as they would without the replay.
GOP_MAX_PACKETS = 600
GOP_MAX_BYTES = 16 * 1024 * 1024


def split_boxes(buffer: bytearray) -> list[bytes]:
    """Take the complete top-level MP4 boxes off the front of `buffer`."""
    boxes = []
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[0:4], "big")
        header = 8
        if size == 1:
            if len(buffer) < 16:
                break
            size, header = int.from_bytes(buffer[8:16], "big"), 16
        if size < header or len(buffer) < size:
            break
        boxes.append(bytes(buffer[:size]))
        del buffer[:size]
    return boxes


class _Sink:
    """A write-only file for the muxer: collects what it writes."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)


class LiveRelay:
    """Feeds one camera's video packets to its live viewers.

    Always: holds the packets since the last keyframe (references; at most GOP_MAX_*).
    Every `poll_s`: reads the viewers who joined (pub/sub, no waiting); every `check_s`:
    asks whether anyone still watches (a Redis EXISTS). While someone does, every packet
    becomes one fMP4 fragment for the camera's group. The first viewer gets the held GOP
    replayed through the group; a later one gets a catch-up sent to it alone."""

    def __init__(
        self,
        slug: str,
        *,
        channel: RedisLiveChannel,
        poll_s: float = 0.05,
        check_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.slug = slug
        self.channel = channel
        self.poll_s = poll_s
        self.check_s = check_s
        self.clock = clock
        self.wall_clock = wall_clock
        self.fragments_sent = 0
        self.catchups_sent = 0
        self._video: Any = None  # the camera's av VideoStream, from begin() on
        self._watched = False
        self._next_poll = 0.0
        self._next_check = 0.0
        self._out: Any = None  # the muxer's av OutputContainer while viewers watch
        # [(av packet, dts, pts, keyframe)] from a keyframe on
        self._gop: list[tuple[Any, int, int | None, bool]] | None = None
        self._gop_bytes = 0
        self._gop_epoch = 0.0
        self._replay: list[bytes] | None = None  # fragments of a GOP being replayed

    def begin(self, video: Any) -> None:  # an av VideoStream
        """A new connection (maybe a new codec or size): restart the muxer."""
        self._stop_muxer()
        self._video = video
        self._gop = None

    def write(self, packet: Any) -> None:  # PyAV packets are Any (pipeline.detect_stream)
        if self._video is None or packet.stream.index != self._video.index or packet.dts is None:
            return
        self._hold(packet)
        joined = self._viewers()
        if not self._watched:
            return
        try:
            if self._out is None:
                self._start_from_held(packet)
                return  # the viewers who just joined get the replay through the group
            self._mux(packet, packet.dts, packet.pts, packet.is_keyframe)
            for viewer in joined:
                self._catch_up(viewer)
        except Exception:
            log.warning("%s: live relay failed; restarting at the next keyframe", self.slug, exc_info=True)
            self._stop_muxer()

    def stop(self) -> None:
        self._stop_muxer()
        self._gop = None
        close = getattr(self.channel, "close", None)
        if close is not None:  # its connections and event loop; it reopens them if written to again
            close()

    # --- internals ----------------------------------------------------------------
    def _hold(self, packet: Any) -> None:
        """Keep this GOP's packets: the recorder moves a packet's timestamps when it muxes
        it, so the originals are kept beside it."""
        if packet.is_keyframe:
            self._gop, self._gop_bytes, self._gop_epoch = [], 0, self.wall_clock()
        if self._gop is None:
            return
        self._gop.append((packet, packet.dts, packet.pts, packet.is_keyframe))
        self._gop_bytes += packet.size
        if len(self._gop) > GOP_MAX_PACKETS or self._gop_bytes > GOP_MAX_BYTES:
            self._gop = None  # too long to replay: until the next keyframe, viewers wait for it

    def _viewers(self) -> list[str]:
        """Who joined since the last poll; keeps self._watched true, stops the muxer when
        the last viewer left."""
        now = self.clock()
        if now < self._next_poll:
            return []
        self._next_poll = now + self.poll_s
        try:
            joined = self.channel.joined(self.slug)
            if now >= self._next_check:
                self._next_check = now + self.check_s
                self._watched = bool(joined) or self.channel.is_watched(self.slug)
        except Exception:
            log.debug("%s: cannot tell whether anyone watches", self.slug, exc_info=True)
            joined, self._watched = [], False
        if joined:
            self._watched = True
        if not self._watched:
            self._stop_muxer()
        return joined

    def _start_from_held(self, packet: Any) -> None:
        """Start the muxer at the held GOP's keyframe (it ends with `packet`) and replay it;
        without one, start at the next keyframe."""
        if self._gop:
            self._start_muxer(self._gop[0][1], self._gop_epoch)
            # One message for the whole GOP: 30 group sends (and 30 socket frames to each
            # viewer) would reach the browser later than one.
            self._replay = []
            try:
                for held in list(self._gop):
                    self._mux(*held)
            finally:
                replayed, self._replay = self._replay, None
            if replayed:
                self.channel.publish_fragment(self.slug, b"".join(replayed), True)
                self.fragments_sent += 1
        elif packet.is_keyframe:
            self._start_muxer(packet.dts, self.wall_clock())
            self._mux(packet, packet.dts, packet.pts, True)

    def _start_muxer(self, base_dts: int, epoch: float) -> None:
        import av

        self._sink = _Sink()
        self._out = av.open(self._sink, mode="w", format="mp4", options=LIVE_OPTIONS)
        self._stream = self._out.add_stream_from_template(self._video)
        self._base = base_dts
        self._epoch = epoch  # the wall-clock time at which media time 0 (this keyframe) arrived
        self._last_dts = -1
        self._pending_keyframe = False
        self._init: bytes | None = None
        self._fragments: list[bytes] | None = []  # since the last keyframe, for catch-ups
        self._fragments_bytes = 0

    def _mux(self, packet: Any, dts: int, pts: int | None, keyframe: bool) -> None:
        out_dts = max(dts - self._base, self._last_dts + 1)
        out_pts = max((pts if pts is not None else dts) - self._base, out_dts)
        self._last_dts = out_dts
        # mux() moves the packet to the output's time base: give the recorder its packet back as it was.
        original = packet.stream, packet.time_base, packet.dts, packet.pts
        packet.stream, packet.time_base = self._stream, self._video.time_base
        packet.dts, packet.pts = out_dts, out_pts
        try:
            self._out.mux(packet)
        finally:
            packet.stream, packet.time_base, packet.dts, packet.pts = original
        self._publish_boxes()
        # A fragment leaves the muxer when the next packet arrives: it is the previous one's.
        self._pending_keyframe = keyframe

    def _publish_boxes(self) -> None:
        boxes = split_boxes(self._sink.buffer)
        init = b"".join(b for b in boxes if b[4:8] in (b"ftyp", b"moov"))
        if init and self._init is None:
            self._init = init
            self.channel.publish_init(self.slug, mse_codec(self._video), init, self._epoch)
        media = b"".join(b for b in boxes if b[4:8] in (b"moof", b"mdat"))
        if not media:
            return
        if self._replay is not None:
            self._replay.append(media)
        else:
            self.channel.publish_fragment(self.slug, media, self._pending_keyframe)
            self.fragments_sent += 1
        if self._pending_keyframe:
            self._fragments, self._fragments_bytes = [], 0
        if self._fragments is not None:
            self._fragments.append(media)
            self._fragments_bytes += len(media)
            if self._fragments_bytes > GOP_MAX_BYTES:
                self._fragments = None  # a late viewer waits for the next keyframe

    def _catch_up(self, viewer: str) -> None:
        if self._init is None:
            return  # the init has not left the muxer yet: the group's init reaches the viewer
        media = b"".join(self._fragments or [])
        codec = mse_codec(self._video)
        self.channel.publish_catchup(viewer, codec=codec, epoch=self._epoch, init=self._init, media=media)
        self.catchups_sent += 1

    def _stop_muxer(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except Exception:
                log.debug("closing the live muxer failed", exc_info=True)
