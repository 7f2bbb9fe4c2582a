"""The demo camera: a generated clip played in a loop, so a fresh install shows
something on the live grid before any real camera is added."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.services import save_camera

DEMO_SLUG = "demo"


def make_demo_clip(path: Path, *, seconds: int = 20, fps: int = 15, width: int = 640, height: int = 360) -> Path:
    """Encode an H.264 clip of a bright box crossing a gradient (keyframe every second)."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    ramp = np.linspace(40, 120, width, dtype=np.uint8)
    background = np.dstack([np.tile(ramp, (height, 1))] * 3)
    box_w, box_h = width // 8, height // 3
    with av.open(str(tmp), mode="w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "28"}
        stream.codec_context.gop_size = fps
        total = seconds * fps
        for i in range(total):
            img = background.copy()
            x = int((width - box_w) * i / total)
            y = height // 3
            img[y : y + box_h, x : x + box_w] = (230, 200, 60)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(path)
    return path


def ensure_demo_camera(*, add_if_missing: bool = True) -> tuple[Camera | None, bool]:
    """Add the demo camera and a default 4x2 layout showing it. Returns (camera, added).

    `add_if_missing=False` only repairs an existing demo camera: an admin who deleted it
    does not get it back at the next start. The clip is encoded again when it has gone
    (a DATA_DIR wiped while the database was kept)."""
    exists = Camera.objects.filter(slug=DEMO_SLUG).exists()
    if not exists and not add_if_missing:
        return None, False
    clip = settings.DATA_DIR / "demo" / "demo.mp4"
    if not clip.exists():
        make_demo_clip(clip)  # outside the transaction: encoding takes seconds
    with transaction.atomic():
        return _add_demo_camera(clip)


def _add_demo_camera(clip: Path) -> tuple[Camera, bool]:
    existing = Camera.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing, False
    camera = save_camera(
        Camera(
            name="Demo camera",
            slug=DEMO_SLUG,
            stream_url=clip.as_uri(),
            retention_days=1,
        )
    )
    layout = DashboardLayout.objects.filter(is_default=True).first()
    if layout is None:
        layout = DashboardLayout.objects.create(name="Default", columns=4, rows=2, is_default=True)
    if not layout.slots.filter(position=0).exists():
        DashboardSlot.objects.create(layout=layout, position=0, camera=camera)
    return camera, True
