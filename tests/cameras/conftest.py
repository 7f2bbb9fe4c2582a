"""Fixtures for the camera tests: small real videos, sockets that refuse or stay silent,
and fresh installs to run manage.py commands in."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' passwords play no part here: skip Argon2's deliberate slowness."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_h264_clip(path: Path, *, width: int = 320, height: int = 240, frames: int = 10, fps: int = 10) -> Path:
    """Encode a small H.264 MP4 with PyAV (libx264)."""
    import av
    import numpy as np

    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), (i * 20) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="session")
def h264_clip(tmp_path_factory) -> Path:
    return make_h264_clip(tmp_path_factory.mktemp("clips") / "small clip.mp4")


@pytest.fixture
def closed_port():
    """A local TCP port where nothing listens: bound (so nobody else takes it) but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_server():
    """A local TCP port that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept_forever():
        while not stopping.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stopping.set()
    server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    server.close()
    for conn in held:
        conn.close()
    thread.join(timeout=5)
