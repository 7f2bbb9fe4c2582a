"""Backups and the key of the camera credentials (issue 15, finding 10): the archive holds
the credentials encrypted and not the key (a leaked backup gives no camera away) unless
asked; a restore with the same key gives the cameras back, one without it restores all
the same and says in one line what is missing and how to fix it."""

from __future__ import annotations

import shutil
import sqlite3
import tarfile

import pytest

from tests.installs import Install
from tests.ops.conftest import run_script

CREDENTIALS = """
from cameras.models import Camera
from cameras.services import save_camera
for slug in ("gate", "hall"):
    save_camera(
        Camera(name=slug.title(), slug=slug, stream_url=f"rtsp://192.0.2.10/{slug}"),
        username=f"user-{slug}-Kq7", password=f"Pw-{slug}-Zx9",
    )
"""
READ_BACK = """
from cameras.models import Camera
from cameras.selectors import credentials_readable
for camera in Camera.objects.order_by("slug"):
    print("camera:", camera.slug, camera.username if credentials_readable(camera) else "UNREADABLE")
"""


def read_back(install: Install, **env) -> list[str]:
    """slug, username (or UNREADABLE) of each camera, as the install's own key reads them."""
    out = run_script(install, READ_BACK, **env)
    return [word for line in out.splitlines() if line.startswith("camera: ") for word in line.split()[1:]]


WARNING = "restore: warning: the credentials of 2 camera(s) cannot be decrypted"


@pytest.fixture(scope="module")
def source(tmp_path_factory, migrated_database):
    """An install with two cameras' credentials, its key in STATE_DIR/secrets.key (no SECRETS_KEY)."""
    root = tmp_path_factory.mktemp("secrets-source")
    shutil.copy(migrated_database, root / "ainvr.sqlite3")
    install = Install(root)
    run_script(install, CREDENTIALS)
    assert (install.data_dir / "state" / "secrets.key").is_file()
    return install


def backup(install: Install, archive, *args) -> str:
    result = install.manage("backup", "--output", str(archive), "--no-recordings", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_archive_holds_neither_the_key_nor_a_plain_credential(source, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    said = backup(source, archive)

    assert "the key of the camera credentials is not in the archive" in said
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert "state/secrets.key" not in names
        assert "state/secret_key" in names  # the rest of the state is there
        tar.extract("database/ainvr.sqlite3", tmp_path, filter="data")
    dump = (tmp_path / "database" / "ainvr.sqlite3").read_bytes()
    for secret in (b"user-gate-Kq7", b"Pw-gate-Zx9", b"Pw-hall-Zx9"):
        assert secret not in dump
    with sqlite3.connect(tmp_path / "database" / "ainvr.sqlite3") as db:
        stored = db.execute("SELECT password FROM cameras_camera").fetchall()
    assert all(value.startswith("gAAAAA") for (value,) in stored)


def test_a_restore_without_the_key_restores_and_says_how_to_fix_it(source, fresh_install, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(source, archive)

    restored = fresh_install.manage("restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    warnings = [line for line in restored.stdout.splitlines() if WARNING in line]
    assert len(warnings) == 1, restored.stdout
    assert "set SECRETS_KEY to that key" in warnings[0]
    assert read_back(fresh_install) == ["gate", "UNREADABLE", "hall", "UNREADABLE"]

    # The fix the line gives: the source's key file in this STATE_DIR.
    shutil.copy(source.data_dir / "state" / "secrets.key", fresh_install.data_dir / "state" / "secrets.key")
    assert read_back(fresh_install) == ["gate", "user-gate-Kq7", "hall", "user-hall-Kq7"]


def test_a_restore_where_secrets_key_is_that_key_gives_the_cameras_back(source, fresh_install, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(source, archive)
    key = (source.data_dir / "state" / "secrets.key").read_text().strip()

    restored = fresh_install.manage("restore", str(archive), SECRETS_KEY=key)

    assert restored.returncode == 0, restored.stderr
    assert WARNING not in restored.stdout
    assert read_back(fresh_install, SECRETS_KEY=key) == [
        "gate", "user-gate-Kq7", "hall", "user-hall-Kq7",
    ]  # fmt: skip


def test_include_secrets_key_puts_the_key_in_and_the_restore_needs_nothing_more(source, fresh_install, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(source, archive, "--include-secrets-key")
    with tarfile.open(archive) as tar:
        assert "state/secrets.key" in tar.getnames()

    restored = fresh_install.manage("restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    assert WARNING not in restored.stdout
    assert read_back(fresh_install) == ["gate", "user-gate-Kq7", "hall", "user-hall-Kq7"]


def test_include_secrets_key_takes_secrets_key_when_it_is_set(fresh_install, migrated_database, tmp_path):
    from cryptography.fernet import Fernet

    root = tmp_path / "env-source"
    root.mkdir()
    shutil.copy(migrated_database, root / "ainvr.sqlite3")
    install = Install(root)
    key = Fernet.generate_key().decode()
    run_script(install, CREDENTIALS, SECRETS_KEY=key)
    archive = tmp_path / "backup.tar.gz"
    result = install.manage(
        "backup", "--output", str(archive), "--no-recordings", "--include-secrets-key", SECRETS_KEY=key
    )
    assert result.returncode == 0, result.stderr

    restored = fresh_install.manage("restore", str(archive))  # no SECRETS_KEY here: the key file restored

    assert restored.returncode == 0, restored.stderr
    assert WARNING not in restored.stdout
    assert read_back(fresh_install) == ["gate", "user-gate-Kq7", "hall", "user-hall-Kq7"]
