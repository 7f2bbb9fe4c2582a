"""Fresh installs in folders of their own, to run manage.py in as a user would: a
subprocess with SQLite, DEBUG on and no .env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def install_env(root: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of an install living in `root`; an override of None removes a variable."""
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


def migrate_template(root: Path) -> Path:
    """Migrate a SQLite database in `root` once; installs start from a copy of it."""
    template = root / "ainvr.sqlite3"
    if not template.exists():
        root.mkdir(parents=True, exist_ok=True)
        building = root / "building.sqlite3"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=REPO, env=install_env(root, DATABASE_URL=f"sqlite:///{building}"),
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        building.replace(template)
    return template


class Install:
    """A new, migrated install in a folder of its own."""

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
