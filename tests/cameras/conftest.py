"""Fixtures for the camera tests: small real videos, sockets that refuse or stay silent,
and fresh installs to run manage.py commands in."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.media import make_clip


@pytest.fixture(scope="session")
def h264_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "small clip.mp4", seconds=1, fps=10)


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
