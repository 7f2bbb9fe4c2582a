"""The RTSP test server behaves like a camera: real streams PyAV can read, shared by several
clients, and failures on demand (dies, hangs, comes back on the same URL)."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from tests import rtsp
from tests.rtsp import RtspServer, RtspServerError
from tests.support import frame_clock

# The harness's fixtures, for these tests even where no conftest imports them.
make_rtsp_server = rtsp.make_rtsp_server
rtsp_server = rtsp.rtsp_server

OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "0", "probesize": "32768"}
TICKS_PER_FRAME = 90_000 // 15  # RTP video clock at 15 fps


def open_stream(url: str, read_timeout: float = 3.0) -> av.container.InputContainer:
    return av.open(url, options=OPTIONS, timeout=(3.0, read_timeout))


def read_packets(container: av.container.InputContainer, count: int, kind: str = "video") -> list[av.Packet]:
    """The next `count` non-empty packets of the first stream of that kind."""
    stream = next(s for s in container.streams if s.type == kind)
    packets = []
    for packet in container.demux(stream):
        if packet.size:
            packets.append(packet)
            if len(packets) == count:
                break
    return packets


def drain(container: av.container.InputContainer, limit: float) -> float:
    """Demux until the stream ends or fails; seconds it took (at most `limit` plus one read timeout)."""
    started = time.monotonic()
    try:
        for _packet in container.demux():
            if time.monotonic() - started > limit:
                break
    except av.FFmpegError:
        pass
    return time.monotonic() - started


def painted_millis(gray: np.ndarray) -> int | None:
    """The clock frame_clock painted into a decoded frame's luma, or None."""
    place = frame_clock.layout(gray.shape[1], gray.shape[0])
    block, origin = place["block"], place["origin"]

    def block_mean(column: int, row: int) -> float:
        # The central half of the block: its edges blur into the neighbours.
        top, left = origin + row * block + block // 4, origin + column * block + block // 4
        return float(gray[top : top + block // 2, left : left + block // 2].mean())

    return frame_clock.read(block_mean)


def clock_frames(url: str, count: int) -> list[tuple[int | None, float]]:
    """(painted milliseconds, wall clock in milliseconds when decoded) of the next `count` frames."""
    seen = []
    with open_stream(url) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # frame threads would hold frames back
        for packet in container.demux(stream):
            for frame in stream.codec_context.decode(packet):
                seen.append((painted_millis(frame.to_ndarray(format="gray")), time.time() * 1000))
            if len(seen) >= count or not packet.size:
                break
    return seen


def test_the_clock_code_reads_back_what_was_painted():
    width, height, millis = 640, 360, 1_795_337_782_784
    frame = frame_clock.blank_i420(width, height)
    gray = np.frombuffer(frame, np.uint8)[: width * height].reshape(height, width)
    assert painted_millis(gray) is None, "a grey frame carries no clock"
    frame_clock.paint(frame, width, height, millis)
    assert painted_millis(gray) == millis
    frame_clock.paint(frame, width, height, millis + 67)
    assert painted_millis(gray) == millis + 67


def test_its_clock_pattern_carries_the_wall_clock_of_each_frame(make_rtsp_server):
    server = make_rtsp_server(pattern="clock", width=640, height=360, fps=15, gop=15, bitrate=800)
    # FFmpeg's probing at opening holds back the first ~2 s of frames, which then arrive at once:
    # 45 frames (3 s) reach the live edge.
    seen = clock_frames(server.url(), 45)
    painted = [millis for millis, _ in seen]
    assert None not in painted, "every frame carries a readable clock"
    steps = np.diff(painted)
    assert (steps > 0).all(), "increasing"
    assert 60 <= np.median(steps) <= 74 and steps.max() < 500, f"about 1/15 s apart: {steps.tolist()}"
    lags = [round(decoded - millis) for millis, decoded in seen]
    assert min(lags) >= 0, "never painted after it was decoded: the wall clock, same machine"
    assert max(lags[-10:]) < 1000, f"at the live edge, within a second of the wall clock: {lags}"


def test_it_serves_720p15_h264(rtsp_server):
    with open_stream(rtsp_server.url()) as container:
        stream = container.streams.video[0]
        packets = read_packets(container, 3)
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (1280, 720)
        assert stream.average_rate == 15
        frames = [frame for packet in packets for frame in stream.codec_context.decode(packet)]
        assert frames and (frames[0].width, frames[0].height) == (1280, 720)


def test_it_sends_a_keyframe_every_gop_in_one_packet(make_rtsp_server):
    server = make_rtsp_server(gop=10)
    with open_stream(server.url()) as container:
        packets = read_packets(container, 31)
    keyframes = [index for index, packet in enumerate(packets) if packet.is_keyframe]
    assert keyframes[:1] == [0], "the first packet a new client gets is a keyframe"
    assert keyframes == list(range(0, 31, 10)), "one packet per keyframe, every 10 frames"
    timed = [packet.pts for packet in packets if packet.pts is not None]
    assert len(timed) >= 30, "only the very first packet may lack a pts"
    assert {b - a for a, b in zip(timed, timed[1:], strict=False)} == {TICKS_PER_FRAME}


def test_it_serves_h265(make_rtsp_server):
    server = make_rtsp_server(mounts={"/cam": "h265"})
    with open_stream(server.url("/cam")) as container:
        assert container.streams.video[0].codec_context.name == "hevc"
        assert len(read_packets(container, 2)) == 2


def test_its_audio_mount_has_aac(make_rtsp_server):
    server = make_rtsp_server(mounts={"/audio": "h264+aac"}, width=320, height=240)
    with open_stream(server.url("/audio")) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
        assert len(read_packets(container, 3, kind="audio")) == 3


def test_two_clients_share_one_uninterrupted_stream(rtsp_server):
    with open_stream(rtsp_server.url()) as first:
        before = read_packets(first, 5)
        with open_stream(rtsp_server.url()) as second:
            assert len(read_packets(second, 5)) == 5
            after = read_packets(first, 5)
    pts = [packet.pts for packet in before + after if packet.pts is not None]
    # A second client must not restart the shared encoder (a seek would send pts back to 0).
    assert pts == sorted(pts) and len(set(pts)) == len(pts)


def test_a_killed_server_ends_the_stream_at_once(rtsp_server):
    with open_stream(rtsp_server.url()) as container:
        read_packets(container, 2)
        rtsp_server.kill()
        assert drain(container, limit=10) < 3
    with pytest.raises(ConnectionRefusedError):
        open_stream(rtsp_server.url())


def test_a_frozen_server_trips_the_read_timeout(rtsp_server):
    with open_stream(rtsp_server.url(), read_timeout=1.0) as container:
        read_packets(container, 2)
        rtsp_server.freeze()
        try:
            # PyAV raises ExitError after about twice the read timeout.
            assert drain(container, limit=10) < 1.0 + 3
        finally:
            rtsp_server.thaw()


def test_a_restarted_server_answers_on_the_same_url(rtsp_server):
    url = rtsp_server.url()
    rtsp_server.kill()
    rtsp_server.restart()
    assert rtsp_server.url() == url
    with open_stream(url) as container:
        assert len(read_packets(container, 2)) == 2


def test_it_serves_a_clip_in_real_time_then_ends(make_rtsp_server, tmp_path):
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as output:
        stream = output.add_stream("libx264", rate=15, options={"g": "5", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(15):
            frame = av.VideoFrame(320, 240, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 16]) * plane.buffer_size)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    server = make_rtsp_server(clip=clip)
    started = time.monotonic()
    with open_stream(server.url()) as container:
        packets = read_packets(container, 100)
    assert 12 <= len(packets) <= 15 and packets[0].is_keyframe
    assert 0.5 < time.monotonic() - started < 5, "one second of video, sent in real time"


def test_start_fails_with_the_servers_error():
    with pytest.raises(RtspServerError, match="bad --mount"):
        RtspServer(mounts={"/cam": "vp9"}).start()
