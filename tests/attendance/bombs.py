"""Decompression bombs and other bad pictures for the image checks, made in a moment.

A 1-bit greyscale PNG of zero rows compresses about 1000:1: 30000x30000 pixels is a file of
about 110 KB that decodes to 900 MB of grey or 2.7 GB of BGR (cv2.IMREAD_COLOR), before a
face model's image pyramid multiplies it again.
"""

from __future__ import annotations

import resource
import struct
import zlib
from contextlib import contextmanager


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of `width` x `height` black 1-bit pixels (every row filtered, complete)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * max(1, 4_000_000 // len(row))
    parts, left = [], height
    while left > 0:
        rows = min(left, len(block) // len(row))
        parts.append(compressor.compress(block[: rows * len(row)]))
        left -= rows
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


TEXT_AS_JPG = b"Meeting notes\nNothing to see here, just text saved with a .jpg name.\n" * 20


@contextmanager
def address_space_cap(extra_bytes: int):
    """This process may map at most `extra_bytes` more than it has now: code that decodes
    a bomb gets MemoryError (or a failed decode) instead of taking the machine down.
    The soft limit only: it is put back afterwards."""
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (mapped + extra_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
