"""Frames for AI: the detect stream decoded at the camera's detect fps, scaled for
inference, and offered to the next stage without ever waiting for it.

Recording never depends on this: a slow detector makes frames drop (counted), not
packets queue up. The sub-stream, when a camera has one, is read by its own thread
(its own connection), so its hiccups cannot stall the main stream either.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from cameras.frames import Frame
from cameras.url_text import redact
from pipeline.reconnect import ReconnectPolicy, probe_address

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from pipeline.live.relay import LiveRelay

log = logging.getLogger("ainvr.frames")

# PyAV objects (streams, packets, decoded frames, containers) are typed Any here: their
# stubs are generic over the stream kind, which this code never narrows.


class FrameSink(Protocol):
    """Where sampled frames go: returns False when the frame was dropped."""

    def offer(self, frame: Frame) -> bool: ...


class DroppingQueue:
    """A bounded in-process queue that, when full, drops its oldest frame and counts it:
    the detector always gets the newest pictures and the producer never blocks."""

    def __init__(self, maxsize: int = 4):
        self._items: deque[Frame] = deque(maxlen=maxsize)
        self._ready = threading.Condition()
        self.dropped = 0
        self.offered = 0

    def offer(self, frame: Frame) -> bool:
        with self._ready:
            self.offered += 1
            dropped = len(self._items) == self._items.maxlen
            if dropped:
                self.dropped += 1
            self._items.append(frame)
            self._ready.notify()
            return not dropped

    def take(self, timeout: float | None = None) -> Frame | None:
        with self._ready:
            if not self._items and not self._ready.wait_for(lambda: bool(self._items), timeout):
                return None
            return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)


class ProcessQueueSink:
    """Frames to another process through a multiprocessing queue; a full queue drops the
    new frame (counted) instead of blocking the capture process."""

    def __init__(self, mp_queue: Queue[Frame], on_drop: Callable[[], None] | None = None):
        self.queue = mp_queue
        self.on_drop = on_drop
        self.dropped = 0
        self.offered = 0

    def offer(self, frame: Frame) -> bool:
        self.offered += 1
        try:
            self.queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1
            if self.on_drop is not None:
                self.on_drop()
            return False
        return True


class FanOutSink:
    """One frame offered to several stages; each sink drops on its own."""

    def __init__(self, sinks: Iterable[FrameSink]):
        self.sinks = list(sinks)

    def offer(self, frame: Frame) -> bool:
        return all([sink.offer(frame) for sink in self.sinks])


class FrameSampler:
    """Decodes every packet of a video stream (P-frames need their predecessors) and keeps
    one frame per 1/fps second, converted to BGR and scaled down only for those."""

    def __init__(
        self,
        camera_id: int,
        *,
        fps: float,
        sink: FrameSink,
        max_side: int = 640,
        rotation: int = 0,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.camera_id = camera_id
        self.rotation = rotation
        self.interval = 1.0 / fps
        self.sink = sink
        self.max_side = max_side
        self.wall_clock = wall_clock
        self.decoded = 0
        self.sampled = 0
        self._stream: Any = None  # the av video stream being sampled
        self._next_at: float | None = None

    def begin(self, stream: Any) -> None:
        self._stream = stream
        self._next_at = None

    def feed(self, packet: Any) -> None:
        if self._stream is None or packet.stream is None or packet.stream.index != self._stream.index:
            return
        try:
            frames = packet.decode()
        except Exception:  # a damaged packet: the next keyframe repairs the picture
            log.debug("camera %s: undecodable packet", self.camera_id, exc_info=True)
            return
        for frame in frames:
            self.decoded += 1
            if frame.pts is None or frame.time_base is None:
                continue
            t = float(frame.pts * frame.time_base)
            if self._next_at is not None and t < self._next_at:
                continue
            self._next_at = t + self.interval if self._next_at is None else max(self._next_at + self.interval, t)
            self.sampled += 1
            self.sink.offer(self._to_frame(frame))

    def _to_frame(self, frame: Any) -> Frame:
        width, height = frame.width, frame.height
        scale = min(1.0, self.max_side / max(width, height))
        if scale < 1.0:
            # Even sizes: some inference runtimes and encoders insist.
            frame = frame.reformat(width=int(width * scale) // 2 * 2, height=int(height * scale) // 2 * 2)
        return Frame(
            camera_id=self.camera_id,
            captured_at=self.wall_clock(),
            image=frame.to_ndarray(format="bgr24"),
            source_width=width,
            source_height=height,
            rotation=self.rotation,
        )


class DetectStreamReader:
    """The sub-stream, read on a thread of its own and fed to a FrameSampler (AI), a live
    relay (the grid tiles' video, remuxed, never decoded for it), or both."""

    def __init__(
        self,
        url: str,
        sampler: FrameSampler | None,
        *,
        open_source: Callable[..., Any],
        read_timeout: float = 5.0,
        live: LiveRelay | None = None,
    ):
        self.url = url
        self.sampler = sampler
        self.live = live
        self.open_source = open_source
        self.read_timeout = read_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="detect-stream", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.read_timeout + 2)
        if self.live is not None:
            self.live.stop()

    def _run(self) -> None:
        # The same policy as the main stream's (pipeline.reconnect): knock cheaply while the
        # camera is away, open as soon as it answers.
        policy = ReconnectPolicy(probe_address(self.url))
        down = False
        while not self._stop.is_set():
            now = time.monotonic()
            if not policy.ready(now):
                self._stop.wait(max(0.05, min(0.2, policy.wait(now))))
                continue
            try:
                with self.open_source(self.url, read_timeout=self.read_timeout) as container:
                    video = container.streams.video[0]
                    if self.live is not None:
                        self.live.begin(video)
                    if self.sampler is not None:
                        self.sampler.begin(video)
                    for packet in container.demux(video):
                        if self._stop.is_set():
                            return
                        if down:
                            down = False
                            policy.connected()
                        if self.live is not None:
                            self.live.write(packet)
                        if self.sampler is not None:
                            self.sampler.feed(packet)
            except Exception as e:
                if not down:  # once per outage
                    log.warning("detect stream %s: %s", redact(self.url), redact(str(e)))
            down = True
            policy.failed(time.monotonic())
