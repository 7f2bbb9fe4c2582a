"""Files under MEDIA_DIR that show people, their names, and images judged before decoding.

Face photos (`faces/`) and attendance snapshots (`attendance/`) show employees: only admins
may see them (recordings.views.private_media_file), the general media view refuses them,
and they are stored under random names so that a path cannot be guessed from an id.

An image is judged from its header (Pillow's `Image.open` reads only that) before anything
decodes it: a 873 KB PNG can declare 30000x30000 pixels, 2.7 GB once decoded in BGR and a
lot more in a face model's image pyramid.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

PRIVATE_PREFIXES = ("faces", "attendance")

# Pillow's format name -> the extension the file is stored with. MPO is how Pillow names
# the JPEG of many phone cameras (a JPEG with a second, preview picture).
IMAGE_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp"}
IMAGE_FORMAT_NAMES = "JPEG, PNG, WebP or BMP"
OPENERS = ["JPEG", "PNG", "WEBP", "BMP"]  # Pillow's parsers for those (JPEG's also opens MPO)


def is_private(name: str) -> bool:
    """True for a MEDIA_DIR-relative name under one of PRIVATE_PREFIXES (`faces//x` too)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    parts = tuple(p for p in parts if p not in ("/", "."))
    return bool(parts) and parts[0].lower() in PRIVATE_PREFIXES


def random_name(prefix: str, filename: str, *, when: datetime | None = None) -> str:
    """`prefix/YYYY/MM/<random>.<ext>`: 128 random bits, the extension of `filename` when it
    is an image one (else .jpg). The month folders keep directories small."""
    from django.utils import timezone

    when = when or timezone.now()
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix not in set(IMAGE_FORMATS.values()) | {".jpeg"}:
        suffix = ".jpg"
    return f"{prefix}/{when:%Y/%m}/{secrets.token_urlsafe(16)}{suffix}"


class ImageRejected(ValueError):
    """Not an image we take; str(e) is the reason, fit to show to the user."""


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return IMAGE_FORMATS[self.format]


def check_image_header(source, *, max_pixels: int) -> ImageHeader:
    """The format and size of the image in `source` (bytes or a binary file, left at the
    position it had), read from its header only: nothing is decoded. Raises ImageRejected
    when it is not an image, not one of IMAGE_FORMATS, or has more than `max_pixels`."""
    import io

    from PIL import Image, UnidentifiedImageError

    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    position = source.tell()
    too_large = ImageRejected(f"more than the {max_pixels / 1e6:g} megapixels allowed")
    try:
        # Only the parsers of the formats we take; Image.open reads the header, load() decodes.
        with Image.open(source, formats=OPENERS) as image:
            found = ImageHeader(image.format or "", *image.size)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None  # Pillow's guard (limit_pillow_pixels) spoke first
    except UnidentifiedImageError:
        raise ImageRejected(_other_format(source, position)) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected("not an image") from None
    finally:
        source.seek(position)
    if found.width * found.height > max_pixels:
        raise ImageRejected(f"{found.width}x{found.height} pixels: {too_large}")
    return found


def _other_format(source, position: int) -> str:
    """Why a file no parser of IMAGE_FORMATS took is refused: another image format, or none."""
    from PIL import Image

    source.seek(position)
    try:
        with Image.open(source) as image:
            return f"a {image.format} image: only {IMAGE_FORMAT_NAMES} are taken"
    except Exception:  # not an image at all, or one Pillow's guard refuses: no matter which
        return "not an image"


def limit_pillow_pixels(max_pixels: int) -> None:
    """Pillow's decompression-bomb guard at `max_pixels` in this process: opening a larger
    image raises instead of warning (Pillow only refuses at twice its limit by default)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
