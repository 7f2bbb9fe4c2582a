"""The least a PyAV recorder can cost: one RTSP stream remuxed into MP4 segments by the
shortest PyAV loop, with AINVR's options (pipeline.capture.open_stream, FFmpeg's socket
timeout; recordings.segments.MP4_OPTIONS) and none of its care (no timestamp repair, no
status, no live relay, no reconnecting). The benchmark runs one per stream beside AINVR
and ffmpeg: what separates it from ffmpeg is PyAV and its FFmpeg, not AINVR's code.

    python -m bench.ingest.bare_pyav URL FOLDER SEGMENT_SECONDS
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path


def record(url: str, folder: Path, segment_seconds: float) -> None:
    from cameras.probe import open_stream
    from recordings.segments import MP4_OPTIONS

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    container = open_stream(url)
    video = container.streams.video[0]
    ticks = int(segment_seconds / video.time_base)
    out, out_stream, start, count = None, None, 0, 0
    try:
        for packet in container.demux(video):
            if stopping:
                break
            if packet.dts is None:
                continue
            if packet.is_keyframe and (out is None or packet.dts - start >= ticks):
                if out is not None:
                    out.close()
                import av

                out = av.open(str(folder / f"{count:03d}.mp4"), mode="w", format="mp4", options=MP4_OPTIONS)
                out_stream, start, count = out.add_stream_from_template(video), packet.dts, count + 1
            if out is not None:
                packet.stream = out_stream
                out.mux(packet)
    finally:
        if out is not None:
            out.close()
        container.close()


if __name__ == "__main__":
    record(sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]))
