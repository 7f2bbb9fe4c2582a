"""SegmentWriter remuxes real packets into fragmented MP4 segments cut at keyframes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import av
import pytest

from recordings.segments import SegmentWriter, create_segment_file
from tests.media import duration_of, make_clip, video_packets

T0 = datetime(2026, 3, 29, 0, 59, 50, tzinfo=UTC)


def remux(clip, root, *, segment_seconds, blank_first=False, stop_after=None, close=True):
    closed = []
    writer = SegmentWriter(root=root, camera_slug="gate", segment_seconds=segment_seconds, on_closed=closed.append)
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        writer.begin(video, audio, wall_clock=T0)
        for n, packet in enumerate(container.demux(*[s for s in (video, audio) if s is not None])):
            if packet.dts is None:
                continue
            if blank_first and n == 0:
                packet.pts = packet.dts = None  # as RTSP sometimes sends the first keyframe
            writer.write(packet)
            if stop_after is not None and n >= stop_after:
                break
        if close:
            writer.close()
    return closed, writer


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # 12 s at 10 fps, a keyframe every second.
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=12, fps=10, gop=10)


def test_segments_start_on_keyframes_and_follow_each_other_exactly(clip, tmp_path):
    closed, _ = remux(clip, tmp_path, segment_seconds=3)

    assert [round(c.duration, 3) for c in closed] == [3.0, 3.0, 3.0, 3.0]
    for before, after in zip(closed, closed[1:], strict=False):
        assert after.start == before.end
    assert closed[0].start == T0
    for segment in closed:
        packets = video_packets(segment.path)
        assert packets[0].is_keyframe
        assert len(packets) == 30
        assert abs(duration_of(segment.path) - segment.duration) < 0.1 + 1e-9  # within one frame
        assert segment.codec == "h264" and (segment.width, segment.height) == (320, 240)
        assert segment.size_bytes == segment.path.stat().st_size


def test_files_follow_the_layout_and_carry_their_exact_start(clip, tmp_path):
    closed, _ = remux(clip, tmp_path, segment_seconds=3)

    assert [c.relative_path for c in closed] == [
        "gate/2026-03-29/00-59-50.mp4",
        "gate/2026-03-29/00-59-53.mp4",
        "gate/2026-03-29/00-59-56.mp4",
        "gate/2026-03-29/00-59-59.mp4",
    ]
    with av.open(str(closed[1].path)) as container:
        assert container.metadata["comment"] == (T0 + timedelta(seconds=3)).isoformat(timespec="microseconds")


def test_a_segment_is_cut_only_at_a_keyframe(clip, tmp_path):
    # 2.5 s asked, keyframes every second: each segment runs to the next keyframe, 3 s.
    closed, _ = remux(clip, tmp_path, segment_seconds=2.5)

    assert {round(c.duration, 3) for c in closed} == {3.0}


def test_a_first_keyframe_without_timestamps_is_kept(clip, tmp_path):
    closed, writer = remux(clip, tmp_path, segment_seconds=3, blank_first=True)

    assert writer.packets_dropped == 0
    assert video_packets(closed[0].path)[0].is_keyframe
    assert len(video_packets(closed[0].path)) == 30


def test_a_killed_writer_leaves_a_playable_file(clip, tmp_path):
    # 5.5 s written into a 10 s segment, and never closed: the process "died".
    remux(clip, tmp_path, segment_seconds=10, stop_after=55, close=False)
    path = next(tmp_path.rglob("*.mp4"))
    # A copy of the bytes on disk now, before anything could finish the file.
    (tmp_path / "as-left.mp4").write_bytes(path.read_bytes())
    path = tmp_path / "as-left.mp4"

    packets = video_packets(path)
    assert packets[0].is_keyframe
    assert len(packets) >= 40


def test_aac_audio_is_recorded_with_the_video(tmp_path):
    clip = make_clip(tmp_path / "with-audio.mp4", seconds=4, audio="aac")

    closed, _ = remux(clip, tmp_path / "rec", segment_seconds=2)

    with av.open(str(closed[0].path)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == "aac"
        assert sum(1 for p in container.demux(container.streams.audio[0]) if p.dts is not None) > 10


def test_audio_mp4_cannot_hold_is_dropped_and_the_video_recorded(tmp_path, caplog):
    clip = make_clip(tmp_path / "g711.mov", seconds=4, audio="pcm_mulaw")

    with caplog.at_level("INFO", logger="ainvr.recording"):
        closed, _ = remux(clip, tmp_path / "rec", segment_seconds=2)

    assert len(closed) == 2
    with av.open(str(closed[0].path)) as container:
        assert [s.type for s in container.streams] == ["video"]
    assert "pcm_mulaw audio is not recorded" in caplog.text


def test_two_segments_starting_in_one_second_get_two_names(tmp_path):
    first = create_segment_file(tmp_path, "gate", T0)

    assert first.name == "00-59-50.mp4"
    assert create_segment_file(tmp_path, "gate", T0).name == "00-59-50-2.mp4"
