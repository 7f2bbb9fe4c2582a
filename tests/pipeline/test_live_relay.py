"""The live relay turns packets into fMP4 an MSE player accepts, only while someone watches,
without disturbing the recording of the same packets; a viewer gets the current GOP at once
instead of waiting for the camera's next keyframe."""

from __future__ import annotations

import io

import av
import pytest

from pipeline.live import relay as live
from pipeline.live.relay import LiveRelay, split_boxes
from recordings.codecs import mse_codec
from recordings.segments import SegmentWriter
from tests.media import make_clip, video_packets


class FakeChannel:
    def __init__(self, watched=True):
        self.watched = watched
        self.inits = []
        self.fragments = []
        self.epochs = []
        self.joins = []  # viewers who joined since the relay last asked
        self.catchups = []

    def is_watched(self, slug):
        return self.watched

    def joined(self, slug):
        joins, self.joins = self.joins, []
        return joins

    def publish_catchup(self, viewer, *, codec, epoch, init, media):
        self.catchups.append({"viewer": viewer, "codec": codec, "epoch": epoch, "init": init, "media": media})

    def publish_init(self, slug, codec, data, epoch):
        self.inits.append((codec, data))
        self.epochs.append(epoch)

    def publish_fragment(self, slug, data, keyframe):
        self.fragments.append((data, keyframe))


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "live.mp4", seconds=4, fps=10, gop=10)


def feed(clip, relay, writer=None, *, skip=0, clock=None, toggle=None):
    from datetime import UTC, datetime

    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        relay.begin(video)
        if writer is not None:
            writer.begin(video, None, wall_clock=datetime(2026, 1, 1, tzinfo=UTC))
        for n, packet in enumerate(p for p in container.demux(video) if p.dts is not None):
            if clock is not None:
                clock.t = n * 0.1
            if toggle is not None:
                toggle(n)
            if n < skip:
                continue
            relay.write(packet)
            if writer is not None:
                writer.write(packet)
        if writer is not None:
            writer.close()


def decoded(data: bytes):
    with av.open(io.BytesIO(data), format="mp4") as container:
        return list(container.decode(video=0))


def test_nobody_watching_costs_nothing(clip):
    channel = FakeChannel(watched=False)
    relay = LiveRelay("gate", channel=channel)

    feed(clip, relay)

    assert channel.inits == [] and channel.fragments == []


def test_a_viewer_gets_an_init_segment_then_fragments_from_a_keyframe(clip):
    channel = FakeChannel()
    relay = LiveRelay("gate", channel=channel, wall_clock=lambda: 1700000000.5)

    feed(clip, relay, skip=3)  # joins mid-GOP: starts at the next keyframe

    assert channel.epochs == [1700000000.5]  # media time 0 is the keyframe that arrived then
    codec, init = channel.inits[0]
    assert codec.startswith("avc1.")
    assert [box[4:8] for box in split_boxes(bytearray(init))] == [b"ftyp", b"moov"]
    assert channel.fragments[0][1] is True
    stream = io.BytesIO(init + b"".join(data for data, _ in channel.fragments))
    with av.open(stream, format="mp4") as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 25 and frames[0].key_frame


def test_the_first_viewer_gets_the_held_gop_at_once(clip, tmp_path):
    """Joining 5 frames into a GOP: the relay replays those frames from their keyframe at
    once, and media time 0 is when that keyframe arrived; the recording stays exact."""
    channel, clock = FakeChannel(watched=False), Clock()
    relay = LiveRelay("gate", channel=channel, clock=clock, wall_clock=lambda: 1700000000 + clock.t)
    closed = []
    writer = SegmentWriter(root=tmp_path, camera_slug="gate", segment_seconds=2, on_closed=closed.append)
    sent_by_frame = {}

    def viewer_joins_at_frame_15(n):
        if n == 15:
            channel.watched, channel.joins = True, ["viewer-1"]
        sent_by_frame[n] = len(channel.fragments)

    feed(clip, relay, writer, clock=clock, toggle=viewer_joins_at_frame_15)

    # The relay saw the join at its next poll, after frame `seen`, and sent frames 10..seen-1
    # at once, in one message (frame seen's fragment leaves the muxer with the next packet).
    seen = min(n for n, sent in sent_by_frame.items() if sent) - 1
    assert 15 <= seen <= 16 and sent_by_frame[seen + 1] == 1
    assert len(decoded(channel.inits[0][1] + channel.fragments[0][0])) == seen - 10
    assert channel.fragments[0][1] is True  # from the keyframe at frame 10
    assert channel.epochs == [1700000001.0]  # frame 10 arrived at 1.0 s
    assert channel.catchups == []  # the first viewer gets the replay through the group
    frames = decoded(channel.inits[0][1] + b"".join(data for data, _ in channel.fragments))
    assert len(frames) == 29 and frames[0].key_frame  # frames 10-38 (39's fragment waits for a 40th)
    assert [round(c.duration, 3) for c in closed] == [2.0, 2.0]
    assert all(len(video_packets(c.path)) == 20 for c in closed)


def test_a_viewer_joining_others_gets_a_catch_up_that_plays_on_into_the_group(clip):
    channel, clock = FakeChannel(), Clock()
    relay = LiveRelay("gate", channel=channel, clock=clock, poll_s=0.05)

    def second_viewer_at_frame_25(n):
        if n == 25:
            channel.joins = ["viewer-2"]
        if n == 26:
            sent_before_catchup.append(len(channel.fragments))

    sent_before_catchup = []
    feed(clip, relay, clock=clock, toggle=second_viewer_at_frame_25)

    (catchup,) = channel.catchups
    assert catchup["viewer"] == "viewer-2" and catchup["init"] == channel.inits[0][1]
    assert catchup["codec"].startswith("avc1.")
    # The catch-up holds frames 20-24 (a keyframe on); the group goes on with frame 25.
    later = b"".join(data for data, _ in channel.fragments[sent_before_catchup[0] :])
    frames = decoded(catchup["init"] + catchup["media"] + later)
    assert frames[0].key_frame and len(frames) == 19  # frames 20-38
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)


def test_a_gop_too_long_to_hold_makes_the_viewer_wait_for_a_keyframe(clip, monkeypatch):
    monkeypatch.setattr(live, "GOP_MAX_PACKETS", 4)
    channel, clock = FakeChannel(watched=False), Clock()
    relay = LiveRelay("gate", channel=channel, clock=clock, check_s=0.5)

    def viewer_joins_at_frame_15(n):
        if n == 15:
            channel.watched, channel.joins = True, ["viewer-1"]

    feed(clip, relay, clock=clock, toggle=viewer_joins_at_frame_15)

    frames = decoded(channel.inits[0][1] + b"".join(data for data, _ in channel.fragments))
    assert frames[0].key_frame and len(frames) == 19  # from frame 20, the next keyframe


def test_relaying_leaves_the_recording_exact(clip, tmp_path):
    channel, closed = FakeChannel(), []
    relay = LiveRelay("gate", channel=channel)
    writer = SegmentWriter(root=tmp_path, camera_slug="gate", segment_seconds=2, on_closed=closed.append)

    feed(clip, relay, writer)

    assert [round(c.duration, 3) for c in closed] == [2.0, 2.0]
    assert all(len(video_packets(c.path)) == 20 for c in closed)


def test_the_relay_stops_when_the_last_viewer_leaves(clip):
    channel, clock = FakeChannel(), Clock()
    relay = LiveRelay("gate", channel=channel, check_s=1.0, clock=clock)

    def leave_after_a_second(n):
        channel.watched = n < 10

    feed(clip, relay, clock=clock, toggle=leave_after_a_second)

    assert 5 <= len(channel.fragments) <= 12


def test_the_codec_string_comes_from_the_avcc_of_a_file(clip):
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        extradata = bytes(stream.codec_context.extradata)

        assert mse_codec(stream) == "avc1." + extradata[1:4].hex().upper()  # profile, flags, level


def test_the_codec_string_comes_from_the_annex_b_sps_of_rtsp():
    class Context:
        name = "h264"
        # Annex-B as RTSP gives it: start code, SPS (type 7) High profile level 3.1, then a PPS.
        extradata = b"\x00\x00\x00\x01\x67\x64\x00\x1f\xac\xd9" + b"\x00\x00\x00\x01\x68\xeb\xe3"

    class Stream:
        codec_context = Context()

    assert mse_codec(Stream()) == "avc1.64001F"
