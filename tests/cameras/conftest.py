"""Fixtures for the camera tests: small real videos, sockets that refuse or stay silent,
and fresh installs to run manage.py commands in."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


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


def install_env(root: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of an install living in `root` (SQLite, DEBUG on, no .env)."""
    env = {name: os.environ[name] for name in PASSTHROUGH if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="ainvr.settings",
        DATA_DIR=str(root / "data"),
        DATABASE_URL=f"sqlite:///{root / 'ainvr.sqlite3'}",
        ENV_FILE=str(root / "missing.env"),
        DEBUG="true",
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A migrated SQLite database, made once per run and copied for each install
    (shared with the accounts tests' fixture of the same name through the base temp folder)."""
    template = tmp_path_factory.getbasetemp() / "migrated-install" / "ainvr.sqlite3"
    if not template.exists():
        root = template.parent
        root.mkdir(exist_ok=True)
        building = root / "building.sqlite3"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=REPO, env=install_env(root, DATABASE_URL=f"sqlite:///{building}"),
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        building.replace(template)
    return template


class Install:
    """A new, migrated install in a folder of its own, to run manage.py in."""

    def __init__(self, root: Path):
        self.root = root
        self.data_dir = root / "data"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "manage.py", *args]

    def env(self, **overrides: str | None) -> dict[str, str]:
        return install_env(self.root, **overrides)

    def manage(self, *args: str, **env: str | None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), cwd=REPO, env=self.env(**env), capture_output=True, text=True, timeout=120
        )

    def start(self, *args: str, **env: str | None) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            cwd=REPO,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.fixture
def install(tmp_path, migrated_database) -> Install:
    shutil.copy(migrated_database, tmp_path / "ainvr.sqlite3")
    return Install(tmp_path)
