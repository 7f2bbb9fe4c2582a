"""Fixtures for running manage.py commands as a fresh install would, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


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
    """A migrated SQLite database, made once per run and copied for each install.

    Kept under the run's base temp folder so the cameras tests' copy of this fixture
    finds it instead of migrating again."""
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


@pytest.fixture
def fresh_install(tmp_path, migrated_database):
    """fresh_install(*args, **env) runs `manage.py <args>` in a new, migrated install."""
    shutil.copy(migrated_database, tmp_path / "ainvr.sqlite3")

    def manage(*args: str, **env: str | None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO, env=install_env(tmp_path, **env), capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return manage
