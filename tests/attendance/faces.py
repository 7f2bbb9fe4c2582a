"""Real face photos for the attendance tests, and pictures made from them.

Two sets, both copied from open-source packages (licences beside them):
- tests/attendance/photos: several real photos of one person (obama, obama2, obama3),
  another person (biden) and a group of six (t1), for matching across real shots;
- cameras/demo_assets (the demo camera's): three people, one photo each, and a pagoda
  with no face. Their `variants` (scale, mirror, exposure, a slight turn, JPEG loss) test
  robustness to the way one camera's frames differ, not recognition across photos.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

ASSETS = Path(__file__).resolve().parents[2] / "cameras" / "demo_assets"
PEOPLE = {"collins": "1-astronaut.jpg", "varshney": "3-cameraman.jpg", "hopper": "5-grace-hopper.jpg"}
NO_FACE = "4-pagoda.jpg"

PHOTOS = Path(__file__).resolve().parent / "photos"
SAME_PERSON = ("obama.jpg", "obama2.jpg", "obama3.jpg")  # three real photos of one man
OTHER_PERSON = "biden.jpg"
GROUP_OF_SIX = "t1.jpg"  # six people, one face each


def real_photo(filename: str) -> np.ndarray:
    image = cv2.imread(str(PHOTOS / filename))
    assert image is not None, filename
    return image


def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(ASSETS / PEOPLE.get(name, name)))
    assert image is not None, name
    return image


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def variants(image: np.ndarray) -> list[np.ndarray]:
    """Other 'shots' of the same face."""
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 8, 1.0)
    return [
        cv2.flip(image, 1),
        cv2.resize(image, (int(width * 0.6), int(height * 0.6)), interpolation=cv2.INTER_AREA),
        cv2.convertScaleAbs(image, alpha=0.8, beta=-10),
        cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE),
        cv2.imdecode(np.frombuffer(jpeg(image, 35), np.uint8), cv2.IMREAD_COLOR),
    ]


def blurred(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (25, 25), 0)


def darkened(image: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(image, alpha=0.15)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    height = max(left.shape[0], right.shape[0])
    pad = [cv2.copyMakeBorder(im, 0, height - im.shape[0], 0, 0, cv2.BORDER_CONSTANT) for im in (left, right)]
    return np.hstack(pad)


def on_canvas(face: np.ndarray | None, *, size=(640, 480), at=(60, 40), scale: float = 0.6) -> np.ndarray:
    """A camera frame: grey background, and the photo (scaled) placed at `at`."""
    canvas = np.full((size[1], size[0], 3), 90, np.uint8)
    if face is not None:
        small = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x, y = at
        h, w = small.shape[:2]
        h, w = min(h, size[1] - y), min(w, size[0] - x)
        canvas[y : y + h, x : x + w] = small[:h, :w]
    return canvas


def make_face_clip(path: Path, frames: list[np.ndarray], *, fps: int = 10, gop: int = 10) -> Path:
    """An H.264 MP4 of these BGR frames (all the same size), for the RTSP test server."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = gop
        video.options = {"preset": "ultrafast", "bf": "0", "sc_threshold": "0", "keyint_min": str(gop)}
        for image in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path


def head_and_shoulders(image: np.ndarray, box, *, face_px: int = 100, size=(260, 320)) -> np.ndarray:
    """The photo scaled so the face (`box` from a detector) is `face_px` wide, cut to `size`
    (width, height) around it: a person as a camera would frame them, from any photo."""
    scale = face_px / max(1.0, box[2] - box[0])
    scaled = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    width, height = size
    centre_x, centre_y = (box[0] + box[2]) / 2 * scale, (box[1] + box[3]) / 2 * scale
    padded = cv2.copyMakeBorder(scaled, height, height, width, width, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    x = int(centre_x + width - width / 2)
    y = int(centre_y + height - height * 0.4)  # a little more below the face than above
    return padded[y : y + height, x : x + width]
