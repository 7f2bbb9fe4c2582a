"""Personas every test can use: an admin, an operator and an anonymous visitor.

`persona_client(name)` returns a logged-in Django test client for that persona; the
`api_client` fixtures authenticate with a real DRF token, as integrations do.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role, User
from recordings.models import Segment
from tests.installs import Install, migrate_template
from tests.media import make_clip

PASSWORD = "correct-horse-battery-staple-42"
PERSONAS = ("admin", "operator", "anonymous")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 at production cost would make every login and user slow; a test of the real
    hasher sets PASSWORD_HASHERS itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_user("alice", "alice@example.com", PASSWORD, role=Role.ADMIN)


@pytest.fixture
def operator_user(db) -> User:
    return User.objects.create_user("bob", "bob@example.com", PASSWORD, role=Role.OPERATOR)


@pytest.fixture
def users(admin_user, operator_user) -> dict[str, User | None]:
    return {"admin": admin_user, "operator": operator_user, "anonymous": None}


@pytest.fixture
def persona_client(users):
    """persona_client("operator") -> a Client logged in as the operator (anonymous: not logged in)."""

    def make(name: str) -> Client:
        client = Client()
        if users[name] is not None:
            client.force_login(users[name])
        return client

    return make


@pytest.fixture
def admin_client(persona_client) -> Client:
    return persona_client("admin")


@pytest.fixture
def operator_client(persona_client) -> Client:
    return persona_client("operator")


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture
def persona_api_client(users):
    """persona_api_client("admin") -> an APIClient sending that persona's token."""

    def make(name: str) -> APIClient:
        client = APIClient()
        if users[name] is not None:
            token, _ = Token.objects.get_or_create(user=users[name])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


# Credentials distinctive enough that finding them anywhere in a response is a leak.
CAMERA_USERNAME = "cam-user-7Hq2"
CAMERA_PASSWORD = "s3cr3t-Zx9!pw"


@pytest.fixture
def camera(db):
    """An enabled camera with credentials (which must never be shown back)."""
    from cameras.models import Camera
    from cameras.services import save_camera

    return save_camera(
        Camera(
            name="Gate", slug="gate", stream_url="rtsp://192.0.2.10:554/main", detect_url="rtsp://192.0.2.10:554/sub"
        ),
        username=CAMERA_USERNAME,
        password=CAMERA_PASSWORD,
    )


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A migrated SQLite database, made once per run; each install starts from a copy."""
    return migrate_template(tmp_path_factory.getbasetemp() / "migrated-install")


@pytest.fixture
def install(tmp_path, migrated_database) -> Install:
    """A fresh, migrated install in its own folder, to run manage.py in (tests.installs)."""
    shutil.copy(migrated_database, tmp_path / "ainvr.sqlite3")
    return Install(tmp_path)


# A real RTSP server (Debian's gst-rtsp-server) for the pipeline tests: see tests/rtsp.
from tests.rtsp import make_rtsp_server, rtsp_server  # noqa: E402, F401


@pytest.fixture
def recorded(request):
    """The camera recorded for the last 40 days (one row: only its times matter), for the
    tests that need recordings in a range (analysis jobs), when the test uses `camera`."""
    if "camera" not in request.fixturenames:
        return None
    from django.utils import timezone

    from recordings.models import Segment

    camera = request.getfixturevalue("camera")
    end = timezone.now()
    start = end - timedelta(days=40)
    return Segment.objects.create(
        camera=camera, start=start, end=end, duration=(end - start).total_seconds(), path=f"{camera.slug}/all.mp4"
    )


# --- Recordings on disk with their rows, served as files (no X-Accel-Redirect) ---

# A moment far from midnight in Europe/Paris (the tests' time zone), so the day is unambiguous.
T0 = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def recordings_dir(settings, tmp_path):
    root = tmp_path / "recordings"
    root.mkdir()
    settings.RECORDINGS_DIR = root
    settings.RECORDINGS_ACCEL_REDIRECT = None
    return root


@pytest.fixture
def media_dir(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.MEDIA_ACCEL_REDIRECT = None
    return root


@pytest.fixture
def add_segment(recordings_dir):
    """add_segment(camera, start, seconds=4, gap=0) -> a Segment row with a real fragmented
    MP4 (10 fps, a keyframe each second) as the recorder writes them."""

    def make(camera, start: datetime, seconds: float = 4.0) -> Segment:
        rel = f"{camera.slug}/{start:%Y-%m-%d}/{start:%H-%M-%S}.mp4"
        path = recordings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        make_clip(path, seconds=seconds, fps=10, gop=10, fragmented=True)
        return Segment.objects.create(
            camera=camera,
            start=start,
            end=start + timedelta(seconds=seconds),
            duration=seconds,
            path=rel,
            size_bytes=path.stat().st_size,
            codec="h264",
            width=320,
            height=240,
        )

    return make
