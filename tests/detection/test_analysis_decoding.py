"""The analysis sampler decodes each GOP only up to its last due frame, and takes the same
frames as decoding every frame would."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest

from detection.analysis.footage import FootageSampler, SegmentFile
from tests.detection.shapes import make_scene_clip

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class EveryFrameSampler(FootageSampler):
    """The reference: the same sampler with every frame of the file decoded."""

    def _needed_frames(self, container, stream, segment, zero):
        return container.decode(stream)


@pytest.fixture(scope="module")
def two_second_gop_clip(tmp_path_factory):
    """8 s at 10 fps with a keyframe every 2 s (20 frames), as cameras are often set up."""
    return make_scene_clip(tmp_path_factory.mktemp("gop") / "gop2.mp4", seconds=8, fps=10, gop=20)


def sample(cls, clip, *, start, end, fps):
    segment = SegmentFile(id=1, path=clip, start=T0, end=T0 + timedelta(seconds=8))
    sampler = cls([segment], start=start, end=end, fps=fps, keyframes_only=False)
    return sampler, list(sampler.samples())


def test_the_clip_has_a_keyframe_every_two_seconds(two_second_gop_clip):
    with av.open(str(two_second_gop_clip)) as container:
        stream = container.streams.video[0]
        keys = [float(p.pts * stream.time_base) for p in container.demux(stream) if p.is_keyframe]
    assert keys == pytest.approx([0.0, 2.0, 4.0, 6.0])


@pytest.mark.parametrize("offset", [0.0, 0.35, 1.5])
def test_one_sample_a_second_takes_the_frames_full_decoding_takes(two_second_gop_clip, offset):
    start, end = T0 + timedelta(seconds=offset), T0 + timedelta(seconds=8)
    lean, fast = sample(FootageSampler, two_second_gop_clip, start=start, end=end, fps=1)
    full, reference = sample(EveryFrameSampler, two_second_gop_clip, start=start, end=end, fps=1)
    assert [s.at for s in fast] == [s.at for s in reference]
    assert len(fast) == math.ceil(8 - offset)  # due at offset, offset + 1 s, ... before 8 s
    for a, b in zip(fast, reference, strict=True):
        assert np.array_equal(a.image, b.image), f"the frame at {a.at} differs"
    assert lean.decoded_frames < full.decoded_frames


def test_the_tail_of_each_gop_after_its_last_sample_is_not_decoded(two_second_gop_clip):
    lean, samples = sample(FootageSampler, two_second_gop_clip, start=T0, end=T0 + timedelta(seconds=8), fps=1)
    assert [(s.at - T0).total_seconds() for s in samples] == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7])
    # Each GOP: its keyframe up to the frame at +1 s (11 frames; slice threads hold no frame
    # back, frame threads did); the last GOP is decoded to its end. Decoding all is 80 frames.
    assert lean.decoded_frames <= 3 * 11 + 20, lean.decoded_frames


def test_samples_closer_than_a_gop_still_decode_every_frame_they_need(two_second_gop_clip):
    lean, fast = sample(FootageSampler, two_second_gop_clip, start=T0, end=T0 + timedelta(seconds=8), fps=5)
    _, reference = sample(EveryFrameSampler, two_second_gop_clip, start=T0, end=T0 + timedelta(seconds=8), fps=5)
    assert len(fast) == 40
    assert [s.at for s in fast] == [s.at for s in reference]


@pytest.fixture(scope="module")
def deblocked_clip(two_second_gop_clip, tmp_path_factory):
    """The scene clip encoded again as cameras encode (x264's deblocking filter on, which the
    ultrafast preset of the other clip turns off), at a low bitrate where the filter works."""
    path = tmp_path_factory.mktemp("deblock") / "deblocked.mp4"
    with av.open(str(two_second_gop_clip)) as source, av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "32", "bf": "0", "g": "20", "keyint_min": "20"}
        for frame in source.decode(video=0):
            image = frame.to_ndarray(format="bgr24", width=640, height=360)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_without_deblocking_the_same_frames_come_out_nearly_the_same(deblocked_clip):
    def samples(deblock):
        segment = SegmentFile(id=1, path=deblocked_clip, start=T0, end=T0 + timedelta(seconds=8))
        sampler = FootageSampler([segment], start=T0, end=T0 + timedelta(seconds=8), fps=1, deblock=deblock)
        return list(sampler.samples())

    filtered, raw = samples(True), samples(False)
    assert len(raw) == 8 and [s.at for s in raw] == [s.at for s in filtered]
    differences = [np.abs(a.image.astype(int) - b.image.astype(int)).mean() for a, b in zip(raw, filtered, strict=True)]
    assert max(differences) > 0.05, differences  # the filter was skipped: other pixels
    assert max(differences) < 2.0, differences  # but on average within 2 of 255 grey levels
