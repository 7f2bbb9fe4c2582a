"""Frames for AI: sampled at the detect fps, scaled, BGR; a slow consumer drops frames,
never slows the recording."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime

import av
import numpy as np
import pytest

from cameras.frames import Frame
from cameras.probe import open_stream
from pipeline.detect_stream import DetectStreamReader, DroppingQueue, FrameSampler, ProcessQueueSink
from recordings.segments import SegmentWriter
from tests.media import make_clip, video_packets


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "frames.mp4", seconds=6, fps=10, gop=10)


def sample(clip, sampler, writer=None):
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        sampler.begin(video)
        if writer is not None:
            writer.begin(video, None, wall_clock=datetime(2026, 1, 1, tzinfo=UTC))
        for packet in container.demux(video):
            if packet.dts is None:
                continue
            sampler.feed(packet)
            if writer is not None:
                writer.write(packet)
        if writer is not None:
            writer.close()


def test_frames_come_at_the_detect_fps_scaled_and_in_bgr(clip):
    sink = DroppingQueue(maxsize=100)
    sampler = FrameSampler(7, fps=2, sink=sink, max_side=160)

    sample(clip, sampler)

    frames = [sink.take(0) for _ in range(len(sink))]
    assert len(frames) == 12  # 6 s at 2 fps
    assert sampler.decoded == 60  # every packet decoded, only the sampled ones converted
    first = frames[0]
    assert first.image.shape == (120, 160, 3) and first.image.dtype == np.uint8
    assert (first.source_width, first.source_height) == (320, 240)
    assert first.camera_id == 7
    # The moving square is orange in RGB (255, 200, 40): blue channel low, red high, as BGR says.
    assert first.image[..., 2].max() > 200


def test_a_full_queue_drops_the_oldest_frames_and_counts_them():
    sink = DroppingQueue(maxsize=2)
    frames = [Frame(1, datetime.now(UTC), np.zeros((2, 2, 3), np.uint8), 2, 2) for _ in range(5)]

    results = [sink.offer(f) for f in frames]

    assert results == [True, True, False, False, False]
    assert sink.dropped == 3
    assert sink.take(0) is frames[3] and sink.take(0) is frames[4] and sink.take(0) is None


def test_a_detector_that_never_reads_costs_the_recording_nothing(clip, tmp_path):
    sink = DroppingQueue(maxsize=1)  # nobody takes from it
    closed = []
    writer = SegmentWriter(root=tmp_path, camera_slug="gate", segment_seconds=2, on_closed=closed.append)

    sample(clip, FrameSampler(1, fps=5, sink=sink), writer)

    assert sink.dropped == 29
    assert [round(c.duration, 3) for c in closed] == [2.0, 2.0, 2.0]
    assert all(len(video_packets(c.path)) == 20 for c in closed)


def test_frames_to_another_process_are_dropped_when_its_queue_is_full():
    mp_queue = multiprocessing.get_context("spawn").Queue(maxsize=1)
    sink = ProcessQueueSink(mp_queue)
    frame = Frame(1, datetime.now(UTC), np.zeros((2, 2, 3), np.uint8), 2, 2)

    started = time.monotonic()
    assert sink.offer(frame) is True
    deadline = time.monotonic() + 5
    while mp_queue.empty() and time.monotonic() < deadline:  # the feeder thread delivers it
        time.sleep(0.01)
    assert sink.offer(frame) is False
    assert time.monotonic() - started < 5
    assert sink.dropped == 1
    assert mp_queue.get(timeout=5).camera_id == 1


def test_a_sub_stream_is_read_on_its_own_thread(make_rtsp_server):
    server = make_rtsp_server(mounts={"/sub": "h264"}, width=640, height=360, fps=15)
    sink = DroppingQueue(maxsize=50)
    reader = DetectStreamReader(
        server.url("/sub"), FrameSampler(1, fps=5, sink=sink, max_side=320), open_source=open_stream
    )

    reader.start()
    try:
        deadline = time.monotonic() + 10
        while sink.offered < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        reader.stop()

    assert sink.offered >= 5
    assert sink.take(0).image.shape == (180, 320, 3)


class RecordingRelay:
    """The LiveRelay calls a reader makes: the streams it began and the packets it wrote."""

    def __init__(self):
        self.begun, self.packets, self.keyframes, self.stopped = [], 0, 0, False

    def begin(self, video):
        self.begun.append((video.codec_context.name, video.codec_context.width))

    def write(self, packet):
        self.packets += 1
        self.keyframes += bool(packet.is_keyframe)

    def stop(self):
        self.stopped = True


@pytest.mark.parametrize("with_ai", [True, False], ids=["ai-and-live", "live-only"])
def test_a_sub_stream_feeds_the_grid_relay_with_or_without_ai(make_rtsp_server, with_ai):
    """Grid tiles play the sub-stream: its packets go to a live relay (remuxed there, never
    decoded for it), also when the camera's AI is off (no sampler)."""
    server = make_rtsp_server(mounts={"/sub": "h264"}, width=640, height=360, fps=15)
    sink = DroppingQueue(maxsize=50)
    sampler = FrameSampler(1, fps=5, sink=sink, max_side=320) if with_ai else None
    relay = RecordingRelay()
    reader = DetectStreamReader(server.url("/sub"), sampler, open_source=open_stream, live=relay)

    reader.start()
    try:
        deadline = time.monotonic() + 10
        while (relay.keyframes < 1 or relay.packets < 20) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        reader.stop()

    assert relay.begun and relay.begun[0] == ("h264", 640)
    assert relay.packets >= 20 and relay.keyframes >= 1 and relay.stopped
    assert (sink.offered >= 1) is with_ai
