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
    # Each GOP: its keyframe up to the frame at +1 s (11 frames), plus what the decoder's
    # threads hold back; the last GOP is decoded to its end. Decoding all is 80 frames.
    assert lean.decoded_frames <= 4 * 11 + 3 * 4 + 9, lean.decoded_frames


def test_samples_closer_than_a_gop_still_decode_every_frame_they_need(two_second_gop_clip):
    lean, fast = sample(FootageSampler, two_second_gop_clip, start=T0, end=T0 + timedelta(seconds=8), fps=5)
    _, reference = sample(EveryFrameSampler, two_second_gop_clip, start=T0, end=T0 + timedelta(seconds=8), fps=5)
    assert len(fast) == 40
    assert [s.at for s in fast] == [s.at for s in reference]
