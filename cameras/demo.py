"""The demo camera: a clip made from a few bundled photos, played in a loop, so a fresh install
shows something on the live grid, and to its detectors, before any real camera is added."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.services import save_camera

DEMO_SLUG = "demo"
ASSETS_DIR = Path(__file__).resolve().parent / "demo_assets"

# Each photo's subject, as fractions of its width and height: the view pans across it while it
# zooms. A photo not named here is framed on its centre. Sources and licences: demo_assets/LICENSES.md.
_SUBJECTS = {
    "1-astronaut": (0.45, 0.35),
    "3-cameraman": (0.55, 0.4),
    "4-pagoda": (0.4, 0.45),
    "5-grace-hopper": (0.5, 0.45),
}
_ZOOM = 1.25  # the closest view is 1/1.25 the width of the widest
_PAN = 0.06  # how far the view drifts across the subject, as a fraction of the photo's width
_FADE_S = 1.0


def demo_photos() -> list[Path]:
    """The photos the demo clip shows, in order."""
    return sorted(ASSETS_DIR.glob("*.jpg"))


def make_demo_clip(
    path: Path, *, seconds: float = 30, fps: int = 15, width: int = 1280, height: int = 720, gop_seconds: float = 1.0
) -> Path:
    """Encode an H.264 clip of the demo photos, each slowly zoomed and panned (Ken Burns) and
    cross-faded into the next, with a keyframe every `gop_seconds`. The first frame shows the first
    photo alone and the clip ends fading back into it, so it loops without a jump. Written to a
    temporary file, then renamed."""
    import av
    import numpy as np

    photos = [_Photo(p, _SUBJECTS.get(p.stem, (0.5, 0.5)), index) for index, p in enumerate(demo_photos())]
    if not photos:
        raise FileNotFoundError(f"no demo photos in {ASSETS_DIR}")
    total = max(1, round(seconds * fps))
    span = total / len(photos)  # the frames each photo owns; it is on screen a fade longer
    fade = max(1, min(round(_FADE_S * fps), int(span // 2)))
    label = _Label(height)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    try:
        with av.open(str(tmp), mode="w") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "26"}
            stream.codec_context.gop_size = max(1, round(gop_seconds * fps))
            for t in range(total):
                layers = [
                    (photos[i].view(progress, width, height), weight)
                    for i, progress, weight in _on_screen(t, total, span, fade, len(photos))
                ]
                planes = _blend(layers)
                elapsed = t // fps
                label.draw(planes, f"DEMO  00:{elapsed // 60:02d}:{elapsed % 60:02d}")
                yuv = np.concatenate([np.asarray(plane).reshape(-1) for plane in planes])
                frame = av.VideoFrame.from_ndarray(yuv.reshape(height * 3 // 2, width), format="yuv420p")
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def _on_screen(t: int, total: int, span: float, fade: int, count: int):
    """(photo index, progress through its time on screen, weight) of each photo frame t shows:
    one, or two during a cross-fade, with weights adding up to 1."""
    for i in range(count):
        start, end = i * span - fade, (i + 1) * span  # it fades in over the end of the one before
        for x in (t, t + total, t - total):  # the last photo fades into the first as the clip loops
            if start <= x < end:
                yield i, (x - start) / (end - start), min(1.0, (x - start) / fade, (end - x) / fade)


class _Photo:
    """A photo as the three planes of an H.264 frame (Y, then Cb and Cr at half size), and the
    moving window of the output's shape that the clip shows of it."""

    def __init__(self, path: Path, subject: tuple[float, float], index: int):
        from PIL import Image

        with Image.open(path) as image:
            y, cb, cr = image.convert("RGB").convert("YCbCr").split()
        # Pillow's YCbCr is full range (JPEG's); players take H.264 without a range tag as limited.
        self.planes = (
            y.point(lambda v: 16 + v * 219 // 255),
            cb.point(lambda v: 128 + (v - 128) * 224 // 255),
            cr.point(lambda v: 128 + (v - 128) * 224 // 255),
        )
        self.subject = subject
        self.direction = 1 if index % 2 == 0 else -1  # zoom in and pan right, then out and left

    def view(self, progress: float, width: int, height: int):
        from PIL import Image

        w, h = self.planes[0].size
        widest = min(w, h * width / height)
        zoom = 1 + (_ZOOM - 1) * (progress if self.direction > 0 else 1 - progress)
        win_w = widest / zoom
        win_h = win_w * height / width
        cx = self.subject[0] * w + (progress - 0.5) * 2 * _PAN * w * self.direction
        cy = self.subject[1] * h
        x0 = min(max(cx - win_w / 2, 0), w - win_w)
        y0 = min(max(cy - win_h / 2, 0), h - win_h)
        box = (x0, y0, x0 + win_w, y0 + win_h)
        sizes = ((width, height), (width // 2, height // 2), (width // 2, height // 2))
        return [
            plane.resize(size, Image.Resampling.BILINEAR, box=box)
            for plane, size in zip(self.planes, sizes, strict=True)
        ]


def _blend(layers):
    from PIL import Image

    planes, weight = layers[0]
    for other, other_weight in layers[1:]:
        share = other_weight / (weight + other_weight)
        planes = [Image.blend(a, b, share) for a, b in zip(planes, other, strict=True)]
        weight += other_weight
    return planes


class _Label:
    """A camera-style caption in the top left corner: white, outlined, on the photo without its colour."""

    def __init__(self, height: int):
        from PIL import ImageFont

        self.font = ImageFont.load_default(size=max(10, height // 32))
        self.margin = height // 36

    def draw(self, planes, text: str) -> None:
        from PIL import ImageDraw

        y, cb, cr = planes
        draw = ImageDraw.Draw(y)
        left, top, right, bottom = draw.textbbox((self.margin, self.margin), text, font=self.font, stroke_width=2)
        for chroma in (cb, cr):  # no colour behind the caption
            ImageDraw.Draw(chroma).rectangle((left // 2, top // 2, right // 2, bottom // 2), fill=128)
        draw.text((self.margin, self.margin), text, font=self.font, fill=235, stroke_width=2, stroke_fill=16)


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
