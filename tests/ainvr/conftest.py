"""Fixtures that load ainvr/settings.py in a fresh interpreter with a chosen environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.installs import PASSTHROUGH, REPO

# Only what an interpreter needs: nothing of the test run's own configuration leaks in.


@pytest.fixture
def settings_env(tmp_path):
    """settings_env(NAME=value, ...) -> an environment for a fresh settings load.

    DEBUG is on and DATA_DIR is a scratch folder; ENV_FILE names a missing file so a
    developer's .env stays out. A value of None removes the variable.
    """

    def make(**overrides: str | None) -> dict[str, str]:
        env = {name: os.environ[name] for name in PASSTHROUGH if name in os.environ}
        env.update(
            DJANGO_SETTINGS_MODULE="ainvr.settings",
            DATA_DIR=str(tmp_path / "data"),
            ENV_FILE=str(tmp_path / "missing.env"),
            DEBUG="true",
        )
        env.update(overrides)
        return {name: value for name, value in env.items() if value is not None}

    return make


@pytest.fixture
def load_settings():
    """load_settings(env, "NAME", ...) -> the finished process; on success its stdout is
    the named settings as JSON. Only the settings module is imported (no django.setup)."""

    def run(env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
        code = (
            "import json; from django.conf import settings; settings.INSTALLED_APPS; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
        )
        return subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )

    return run


@pytest.fixture
def settings_values(load_settings):
    """settings_values(env, "NAME", ...) -> {NAME: value}, failing the test if loading fails."""

    def run(env: dict[str, str], *names: str) -> dict:
        result = load_settings(env, *names)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return run
