"""Installs to back up and restore: populated by a script run inside the install, read
back as rows and file checksums to compare."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.installs import REPO, Install

POPULATE = r"""
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile

from accounts.models import Role, User
from attendance.models import Employee, FaceTemplate
from cameras.models import Camera, CameraStatus
from cameras.services import save_camera
from detection.models import ObjectEvent
from recordings.models import Segment, StorageSettings

User.objects.create_user("alice", "alice@example.com", "correct-horse-battery-staple-42", role=Role.ADMIN)
User.objects.create_user("bob", "bob@example.com", "correct-horse-battery-staple-42", role=Role.OPERATOR)
StorageSettings.objects.update_or_create(pk=1, defaults={"max_total_gb": 50.0, "min_free_gb": 3.0})
start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
rng = np.random.default_rng(7)
for slug in ("gate", "hall"):
    camera = save_camera(
        Camera(name=slug.title(), slug=slug, stream_url=f"rtsp://192.0.2.10/{slug}"), username="u-" + slug, password="p"
    )
    CameraStatus.objects.update_or_create(
        camera=camera, defaults={"state": "error", "last_error": "Connection refused"}
    )
    for i in range(3):
        rel = f"{slug}/2026-11-20/08-00-{i * 10:02d}.mp4"
        path = Path(settings.RECORDINGS_DIR) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.bytes(40_000 + i))
        Segment.objects.create(
            camera=camera, start=start + timedelta(seconds=10 * i), end=start + timedelta(seconds=10 * i + 10),
            duration=10.0, path=rel, size_bytes=40_000 + i, codec="avc1.64001f", width=1280, height=720,
        )
    event = ObjectEvent(
        camera=camera, label="person", confidence=0.87, box=[0.1, 0.2, 0.5, 0.9], track_id=4, start=start
    )
    event.snapshot.save(f"{slug}.jpg", ContentFile(rng.bytes(5_000)), save=True)
for code, name in (("E1", "Ada Lovelace"), ("E2", "Alan Turing")):
    employee = Employee.objects.create(code=code, name=name, department="R&D")
    template = FaceTemplate(
        employee=employee, embedding=rng.standard_normal(128).astype("float32").tobytes(),
        model_name="sface", dimension=128, quality=0.9,
    )
    template.photo.save(f"{code}.jpg", ContentFile(rng.bytes(8_000)), save=True)
"""


def run_script(install: Install, script: str, **env: str | None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=REPO, env=install.env(**env),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def rows(install: Install, **env: str | None) -> list[dict]:
    """Every row of every app (what a restore must give back), in a stable order."""
    excluded = ("django_rq", "ops", "contenttypes", "auth.permission", "sessions")
    result = install.manage("dumpdata", "--natural-foreign", *[f"--exclude={label}" for label in excluded], **env)
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(result.stdout), key=lambda row: (row["model"], str(row["pk"])))


def files(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def data_files(install: Install) -> dict[str, dict[str, str]]:
    data = install.data_dir
    # Not the camera credentials' key: backups leave it out unless asked (test_backup_secrets).
    state = {
        k: v for k, v in files(data / "state").items() if not k.startswith(("prometheus/", "redis/", "secrets.key"))
    }
    return {"recordings": files(data / "recordings"), "media": files(data / "media"), "state": state}


@pytest.fixture
def populated(install) -> Install:
    run_script(install, POPULATE)
    return install


@pytest.fixture
def fresh_install(tmp_path) -> Install:
    """A new install with no database at all yet (restore creates and migrates it)."""
    root = tmp_path / "fresh"
    root.mkdir()
    return Install(root)


@pytest.fixture(scope="module")
def postgres_url():
    """make(): the URL of a new, empty PostgreSQL database, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    from psycopg import sql

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    made = []

    def make() -> str:
        name = f"ainvr_ops_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return f"postgres://postgres@127.0.0.1:5432/{name}"

    yield make
    with psycopg.connect(admin_url, autocommit=True) as db:
        for name in made:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
