"""Small real media files for tests, made with PyAV (libx264, AAC, G.711)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_clip(
    path: Path,
    *,
    seconds: float = 6.0,
    fps: int = 10,
    gop: int = 10,
    width: int = 320,
    height: int = 240,
    audio: str | None = None,
    fragmented: bool = False,
    noise: bool = False,
) -> Path:
    """An H.264 clip with a keyframe every `gop` frames; `audio` = "aac" or "pcm_mulaw" adds
    a tone track (use a .mov path for pcm_mulaw, which MP4 cannot hold); `noise` makes
    every frame random, for a high bitrate."""
    options = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"} if fragmented else {}
    with av.open(str(path), mode="w", options=options) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = gop
        video.options = {"preset": "ultrafast", "bf": "0", "sc_threshold": "0", "keyint_min": str(gop)}
        sound = None
        if audio:
            sound = out.add_stream(audio, rate=8000 if audio == "pcm_mulaw" else 16000)
            sound.layout = "mono"
        frames = int(seconds * fps)
        samples_done = 0
        rng = np.random.default_rng(7)
        for i in range(frames):
            image = np.zeros((height, width, 3), dtype=np.uint8)
            x = int((width - 40) * i / max(1, frames - 1))
            image[height // 3 : height // 3 + 40, x : x + 40] = (255, 200, 40)
            image[:, :, 2] = (i * 7) % 256
            if noise:
                image = rng.integers(0, 256, size=image.shape, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
            if sound is not None:
                rate = sound.codec_context.sample_rate
                target = int((i + 1) * rate / fps)
                while samples_done < target:
                    n = min(1024, target - samples_done)
                    t = (np.arange(samples_done, samples_done + n) / rate).astype(np.float32)
                    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).reshape(1, -1)
                    frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
                    frame.sample_rate = rate
                    frame.pts = samples_done
                    frame.time_base = Fraction(1, rate)
                    for packet in sound.encode(frame):
                        out.mux(packet)
                    samples_done += n
        for stream in (video, sound):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
    return path


def video_packets(path: Path) -> list:
    """The video packets of a file, with timestamps, in order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [p for p in container.demux(stream) if p.dts is not None]


def duration_of(path: Path) -> float:
    """Seconds from the first video packet to the end of the last one."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.dts is not None]
        tb = stream.time_base
        first, last = packets[0], packets[-1]
        return float((last.dts + (last.duration or 0) - first.dts) * tb)


def make_clock_clip(path: Path, start, *, seconds: float = 2.0, fps: int = 15, width: int = 320, height: int = 180):
    """A fragmented H.264 MP4 whose frames carry the wall clock they stand for (`start`, a
    datetime, plus i/fps), painted as the RTSP test server paints it (tests/support/frame_clock.py):
    a recording whose every frame says when it was, for checking where playback lands."""
    from tests.support import frame_clock

    options = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"}
    start_ms = round(start.timestamp() * 1000)
    with av.open(str(path), mode="w", options=options) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = fps
        video.options = {"preset": "ultrafast", "bf": "0", "sc_threshold": "0", "keyint_min": str(fps)}
        for i in range(int(seconds * fps)):
            frame = frame_clock.blank_i420(width, height)
            frame_clock.paint(frame, width, height, start_ms + round(i * 1000 / fps))
            planes = np.frombuffer(bytes(frame), np.uint8).reshape(height * 3 // 2, width)
            for packet in video.encode(av.VideoFrame.from_ndarray(planes, format="yuv420p")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path
