"""The wall clock painted into test video frames, and read back from decoded pixels.

Stdlib only: rtsp_server.py (the system python) paints with it, the tests (the venv) read
with it, and the browser test hands `layout()` to its JavaScript reader.

The code is ROWS rows of blocks on a mid-grey frame, each row a white start marker, 16 bits
(most significant first, white = 1) and a black end marker: 48 bits of Unix time in
milliseconds. Blocks are squares of 16 pixels or more, aligned to H.264's 16x16 macroblocks,
so that a low bitrate keeps them black or white.
"""

from __future__ import annotations

from collections.abc import Callable

ROWS = 3
BITS_PER_ROW = 16
COLUMNS = BITS_PER_ROW + 2  # start marker, bits, end marker
ORIGIN = 16  # top-left corner of the code, pixels from the frame's corner
# Luma (Y) values in video range: what I420 frames hold.
BLACK, GREY, WHITE = 16, 128, 235
# A block whose mean lies this close to mid-grey reads as neither: the frame has no code.
AMBIGUOUS = 40


def layout(width: int, height: int) -> dict[str, int]:
    """Where the code is in a width x height frame: origin and block side in pixels."""
    block = 16 * min((width - ORIGIN) // (16 * COLUMNS), (height - ORIGIN) // (16 * (ROWS + 1)))
    if block < 16:
        raise ValueError(f"{width}x{height} is too small for the clock code (at least 320x80)")
    return {"origin": ORIGIN, "block": block, "rows": ROWS, "columns": COLUMNS, "bits_per_row": BITS_PER_ROW}


def blank_i420(width: int, height: int) -> bytearray:
    """A mid-grey I420 frame (no colour) to paint codes into."""
    if width % 2 or height % 2:
        raise ValueError("I420 needs an even width and height")
    return bytearray([GREY]) * (width * height) + bytearray([128]) * (width * height // 2)


def paint(frame: bytearray, width: int, height: int, millis: int) -> None:
    """Paint `millis` into the luma plane of an I420 frame (from blank_i420) in place."""
    place = layout(width, height)
    block, origin = place["block"], place["origin"]
    white, black = bytes([WHITE]) * block, bytes([BLACK]) * block
    for row in range(ROWS):
        bits = (millis >> (BITS_PER_ROW * (ROWS - 1 - row))) & ((1 << BITS_PER_ROW) - 1)
        line = white + b"".join(white if bits >> (BITS_PER_ROW - 1 - i) & 1 else black for i in range(BITS_PER_ROW))
        line += black
        top = origin + row * block
        for y in range(top, top + block):
            start = y * width + origin
            frame[start : start + len(line)] = line


def read(block_mean: Callable[[int, int], float]) -> int | None:
    """The milliseconds painted, or None when a block is not clearly black or white or a
    marker is wrong (a frame without the code, or one the encoder blurred).

    block_mean(column, row) is the mean luma (0-255, video or full range) of the central part
    of that block: see layout().
    """
    millis = 0
    for row in range(ROWS):
        values = [block_mean(column, row) for column in range(COLUMNS)]
        if any(abs(value - GREY) < AMBIGUOUS for value in values):
            return None
        if values[0] < GREY or values[-1] > GREY:
            return None
        for value in values[1:-1]:
            millis = millis << 1 | (value > GREY)
    return millis
