"""What a browser needs to know of a recorded or live stream's codec to play it with Media
Source Extensions."""

from __future__ import annotations


def mse_codec(stream) -> str:
    """The codecs= string a browser needs for this H.264/H.265 stream, from its extradata
    (avcC from files, Annex-B SPS from RTSP)."""
    ctx = stream.codec_context
    data = bytes(ctx.extradata or b"")
    if ctx.name == "h264":
        if data[:1] == b"\x01" and len(data) >= 4:  # avcC
            return "avc1." + data[1:4].hex().upper()
        for start in _annexb_nal_starts(data):
            if start < len(data) and data[start] & 0x1F == 7 and start + 3 < len(data):  # SPS
                return "avc1." + data[start + 1 : start + 4].hex().upper()
        return "avc1.42E01F"
    if ctx.name == "hevc":
        return "hvc1.1.6.L93.B0"  # Main profile; browsers that play HEVC take it
    return ctx.name


def _annexb_nal_starts(data: bytes):
    i = 0
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            return
        yield i + 3
        i += 3
