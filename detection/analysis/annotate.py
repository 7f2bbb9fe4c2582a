"""The annotated video of an analysis: the sampled frames with boxes, labels and track ids
drawn, and the time of each frame, encoded to H.264 MP4 with PyAV.

This video is re-encoded by nature (the boxes are drawn into the pixels). It holds the
frames that were analysed, each shown for one sampling interval, so it plays in real time
at the sampling rate and costs one encode per sample, not per recorded frame.
"""

from __future__ import annotations

import colorsys
import logging
import zlib
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from detection.backends.base import Detection

if TYPE_CHECKING:
    from av import VideoStream
    from av.container import OutputContainer

log = logging.getLogger("detection.analysis")


def colour_of(label: str) -> tuple[int, int, int]:
    """A stable, bright BGR colour per label."""
    hue = (zlib.crc32(label.encode()) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def draw_detections(
    image: np.ndarray, detections: list[Detection], track_ids: list[int | None], at: datetime | None = None
) -> np.ndarray:
    """Draw boxes and "label #id 0.87" tags on `image` (in place) and return it."""
    height, width = image.shape[:2]
    thickness = max(1, round(min(width, height) / 240))
    scale = max(0.35, min(width, height) / 700)
    for detection, track_id in zip(detections, track_ids, strict=True):
        x1, y1, x2, y2 = detection.box
        p1 = (int(x1 * (width - 1)), int(y1 * (height - 1)))
        p2 = (int(x2 * (width - 1)), int(y2 * (height - 1)))
        colour = colour_of(detection.label)
        cv2.rectangle(image, p1, p2, colour, thickness)
        tag = f"{detection.label}{f' #{track_id}' if track_id is not None else ''} {detection.confidence:.2f}"
        (tw, th), base = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = p1[1] - th - base - 2 if p1[1] - th - base - 2 >= 0 else p1[1]
        cv2.rectangle(image, (p1[0], top), (p1[0] + tw + 4, top + th + base + 2), colour, -1)
        cv2.putText(image, tag, (p1[0] + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if at is not None:
        stamp = at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        (tw, th), base = cv2.getTextSize(stamp, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(image, (0, height - th - base - 4), (tw + 6, height), (0, 0, 0), -1)
        cv2.putText(
            image, stamp, (3, height - base - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
        )
    return image


class AnnotatedVideo:
    """An MP4 being written. `add(image)` takes BGR frames of any size (the first one sets
    the video's size; later ones are scaled to it); `close()` finishes the file."""

    def __init__(self, path: Path, *, fps: float, max_width: int = 1280, crf: int = 28):
        self.path = Path(path)
        self.rate = Fraction(fps).limit_denominator(1000)
        self.max_width = max_width
        self.crf = crf
        self.frames = 0
        self._out: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._size: tuple[int, int] | None = None

    def _open(self, width: int, height: int) -> None:
        import av

        if width > self.max_width:
            height, width = round(height * self.max_width / width), self.max_width
        width, height = max(2, width // 2 * 2), max(2, height // 2 * 2)  # yuv420p needs even sizes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        stream = self._out.add_stream("libx264", rate=self.rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # ultrafast: the encode is most of an annotated run's cost; the file is bigger, not worse.
        stream.options = {"preset": "ultrafast", "crf": str(self.crf)}
        self._stream = stream
        self._size = (width, height)

    def add(self, image: np.ndarray) -> None:
        import av

        if self._out is None:
            self._open(image.shape[1], image.shape[0])
        if self._out is None or self._stream is None or self._size is None:
            raise RuntimeError("the video could not be opened")  # _open sets all three or raises
        width, height = self._size
        if (image.shape[1], image.shape[0]) != (width, height):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = self.frames
        frame.time_base = 1 / self.rate
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.frames += 1

    def close(self) -> Path | None:
        """Finish the file; None when no frame was added (no file is left)."""
        if self._out is None:
            return None
        out, self._out = self._out, None
        if self._stream is None:
            raise RuntimeError("the video has no stream")  # opened with self._out
        for packet in self._stream.encode(None):
            out.mux(packet)
        out.close()
        return self.path

    def abandon(self) -> None:
        """Close without caring about the result and remove the file."""
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except Exception:  # a half-written file is deleted anyway
                log.debug("closing an abandoned annotated video failed", exc_info=True)
        self.path.unlink(missing_ok=True)
