"""Live video for browsers: the camera's packets muxed (not re-encoded) into fragmented
MP4 and published per camera through the channel layer, for Media Source Extensions.

The init segment (ftyp+moov) is kept in Redis so a viewer who joins late gets it first,
then media from the next keyframe. The init carries `epoch`: the wall-clock time (Unix
seconds) of media time 0, so a browser can place detections, which carry the wall-clock
time of their frame, on the video's own timeline. Viewers keep a short-lived "watching" key alive;
while no one watches, the relay does nothing at all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

log = logging.getLogger("ainvr.live")

LIVE_OPTIONS = {
    "movflags": "+frag_every_frame+empty_moov+default_base_moof",
    "flush_packets": "1",
}
WATCH_TTL_S = 15  # a viewer renews its key every 5 s
INIT_TTL_S = 24 * 3600


def live_group(slug: str) -> str:
    return f"live.{slug}"


def init_key(slug: str) -> str:
    return f"ainvr:live:init:{slug}"


def watch_key(slug: str) -> str:
    return f"ainvr:live:watch:{slug}"


def encode_init(codec: str, epoch: float, data: bytes) -> bytes:
    """The init as stored in Redis: one JSON header line, then the init segment."""
    return json.dumps({"codec": codec, "epoch": epoch}).encode() + b"\n" + data


def decode_init(stored: bytes) -> tuple[dict, bytes]:
    header, _, data = stored.partition(b"\n")
    return json.loads(header), data


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


def mse_codec(stream) -> str:
    """The codecs= string a browser needs for this H.264/H.265 stream, from its extradata
    (avcC from files, Annex-B SPS from RTSP)."""
    ctx = stream.codec_context
    data = bytes(ctx.extradata or b"")
    if ctx.name == "h264":
        if data[:1] == b"\x01" and len(data) >= 4:  # avcC
            return "avc1." + data[1:4].hex().upper()
        for start in _annexb_nal_starts(data):
            if start < len(data) and data[start] & 0x1F == 7 and start + 3 < len(data):  # SPS
                return "avc1." + data[start + 1 : start + 4].hex().upper()
        return "avc1.42E01F"
    if ctx.name == "hevc":
        return "hvc1.1.6.L93.B0"  # Main profile; browsers that play HEVC take it
    return ctx.name


def _annexb_nal_starts(data: bytes):
    i = 0
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            return
        yield i + 3
        i += 3


class _Sink:
    """A write-only file for the muxer: collects what it writes."""

    def __init__(self):
        self.buffer = bytearray()

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


class RedisLiveChannel:
    """Publishing through the Redis channel layer, and the keys beside it. Use one from one
    thread, where no event loop runs (a capture loop, the detector's loop).

    `layer_config` (CHANNEL_LAYERS["default"]["CONFIG"]) builds the layer directly, for a
    process without Django settings; without it the configured layer is used.

    The channel keeps its own event loop: async_to_sync would start a thread, a loop and a
    new Redis connection for every message (~10 ms and 4.5 ms of CPU each, measured here;
    one loop costs 1 ms and 0.4 ms), too slow for 15 fragments a second per camera."""

    def __init__(self, redis_url: str, *, layer_config: dict | None = None):
        self.redis_url = redis_url
        self.layer_config = layer_config
        self._redis = None
        self._layer = None
        self._loop = None

    def _client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def is_watched(self, slug: str) -> bool:
        return bool(self._client().exists(watch_key(slug)))

    def publish_init(self, slug: str, codec: str, data: bytes, epoch: float) -> None:
        self._client().set(init_key(slug), encode_init(codec, epoch, data), ex=INIT_TTL_S)
        self._send(slug, {"type": "live.init", "codec": codec, "epoch": epoch, "data": data})

    def publish_detections(self, slug: str, payload: dict) -> None:
        """What the detector saw in one frame, for the overlays: see publish_detections()."""
        self._send(slug, {"type": "live.detections", "payload": payload})

    def publish_fragment(self, slug: str, data: bytes, keyframe: bool) -> None:
        self._send(slug, {"type": "live.fragment", "data": data, "keyframe": keyframe})

    def close(self) -> None:
        """Close the Redis connections and the loop (the channel can be used again after)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                if hasattr(self._layer, "close_pools"):  # the in-memory layer has none
                    loop.run_until_complete(self._layer.close_pools())
            finally:
                loop.close()
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def _send(self, slug: str, message: dict) -> None:
        import asyncio

        if self._layer is None:
            if self.layer_config:
                from channels_redis.core import RedisChannelLayer

                self._layer = RedisChannelLayer(**self.layer_config)
            else:
                from channels.layers import get_channel_layer

                self._layer = get_channel_layer()
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._layer.group_send(live_group(slug), message))


class LiveRelay:
    """Feeds one camera's video packets to its live viewers. `write()` costs nothing while
    no one watches (checked every `check_s`: a Redis EXISTS; a new viewer waits at most that
    plus one GOP for video); when someone does, the muxer starts at the
    next keyframe and every packet becomes one fragment."""

    def __init__(
        self,
        slug: str,
        *,
        channel,
        check_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.slug = slug
        self.channel = channel
        self.check_s = check_s
        self.clock = clock
        self.wall_clock = wall_clock
        self.fragments_sent = 0
        self._video = None
        self._watched = False
        self._next_check = 0.0
        self._out = None

    def begin(self, video) -> None:
        """A new connection (maybe a new codec or size): restart the muxer."""
        self._stop_muxer()
        self._video = video

    def write(self, packet) -> None:
        if self._video is None or packet.stream.index != self._video.index or packet.dts is None:
            return
        now = self.clock()
        if now >= self._next_check:
            self._next_check = now + self.check_s
            try:
                self._watched = self.channel.is_watched(self.slug)
            except Exception:
                log.debug("%s: cannot tell whether anyone watches", self.slug, exc_info=True)
                self._watched = False
            if not self._watched:
                self._stop_muxer()
        if not self._watched:
            return
        if self._out is None:
            if not packet.is_keyframe:
                return
            self._start_muxer(packet.dts)
        try:
            self._mux(packet)
        except Exception:
            log.warning("%s: live relay failed; restarting at the next keyframe", self.slug, exc_info=True)
            self._stop_muxer()

    def stop(self) -> None:
        self._stop_muxer()
        close = getattr(self.channel, "close", None)
        if close is not None:  # its connections and event loop; it reopens them if written to again
            close()

    def _start_muxer(self, base_dts: int) -> None:
        import av

        self._sink = _Sink()
        self._out = av.open(self._sink, mode="w", format="mp4", options=LIVE_OPTIONS)
        self._stream = self._out.add_stream_from_template(self._video)
        self._base = base_dts
        self._epoch = self.wall_clock()  # this keyframe, media time 0, arrived now
        self._last_dts = -1
        self._pending_keyframe = False
        self._init_sent = False

    def _mux(self, packet) -> None:
        dts = max(packet.dts - self._base, self._last_dts + 1)
        pts = max((packet.pts if packet.pts is not None else packet.dts) - self._base, dts)
        self._last_dts = dts
        keyframe = packet.is_keyframe
        # mux() moves the packet to the output's time base: give the recorder its packet back as it was.
        original = packet.stream, packet.time_base, packet.dts, packet.pts
        packet.stream, packet.dts, packet.pts = self._stream, dts, pts
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
        if init and not self._init_sent:
            self.channel.publish_init(self.slug, mse_codec(self._video), init, self._epoch)
            self._init_sent = True
        media = [b for b in boxes if b[4:8] in (b"moof", b"mdat")]
        if media:
            self.channel.publish_fragment(self.slug, b"".join(media), self._pending_keyframe)
            self.fragments_sent += 1

    def _stop_muxer(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except Exception:
                log.debug("closing the live muxer failed", exc_info=True)


def detections_payload(
    *, captured_at: float, objects: list[dict], inference_ms: float | None, width: int, height: int
) -> dict:
    """The overlay message for one analysed frame, as the browser gets it (type "detections").

    captured_at: wall-clock Unix seconds of the frame (compare with the init's epoch);
    objects: [{"label", "confidence", "box": [x1, y1, x2, y2] normalised 0..1, "track_id"}];
    width/height: the frame the boxes are relative to."""
    return {
        "captured_at": captured_at,
        "objects": objects,
        "inference_ms": inference_ms,
        "width": width,
        "height": height,
    }
