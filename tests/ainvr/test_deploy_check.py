"""`manage.py check --deploy` passes for the documented production configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.installs import REPO

STRONG_KEY = "k2Jd9Qx7Lm4Vb8Nz1Rt6Yw3Hs5Fg0Pa-Ue_Ic7Oq2Ej9Kl4Mx8Bv1Cz6Dn3"


@pytest.fixture
def production_env(tmp_path, settings_env):
    return settings_env(
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        HTTPS="true",
        ALLOWED_HOSTS="nvr.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ainvr.sqlite3'}",
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_configuration_passes_the_deploy_check(production_env):
    result = deploy_check(production_env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_without_https_the_deploy_check_warns(production_env):
    result = deploy_check({**production_env, "HTTPS": "false"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr
