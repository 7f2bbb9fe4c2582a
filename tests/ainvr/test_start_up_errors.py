"""A bad setting stops every entry point (each management command, the workers, the web
server) with one line naming the variable and exit status 1, never a traceback; and
./scripts/manage runs a command as ./scripts/up's system would (issue 18, item 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.installs import REPO

BIN = Path(sys.executable).parent

ENTRY_POINTS = [
    pytest.param([sys.executable, "manage.py", "analyze", "--help"], id="manage.py analyze --help"),
    pytest.param([sys.executable, "manage.py", "migrate"], id="manage.py migrate"),
    pytest.param([sys.executable, "manage.py", "runworkers"], id="manage.py runworkers"),
    pytest.param([sys.executable, "manage.py", "rqworker", "default"], id="manage.py rqworker"),
    pytest.param([sys.executable, "manage.py"], id="manage.py (no command)"),
    pytest.param([str(BIN / "daphne"), "-p", "0", "ainvr.asgi:application"], id="daphne"),
    pytest.param([sys.executable, "-c", "import ainvr.wsgi"], id="wsgi"),
]


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert lines[0].startswith("ainvr: error: ")
    return lines[0].removeprefix("ainvr: error: ")


def run(command, env, cwd=REPO, timeout=120):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", ENTRY_POINTS)
def test_a_missing_secret_key_is_one_line_everywhere(settings_env, command):
    line = one_line(run(command, settings_env(DEBUG="false", SECRET_KEY=None)))
    assert line.startswith("SECRET_KEY is required when DEBUG is off") and ".env" in line


@pytest.mark.parametrize("command", ENTRY_POINTS[:2])
def test_a_bad_value_is_one_line_naming_the_variable(settings_env, command):
    assert "TIME_ZONE" in one_line(run(command, settings_env(TIME_ZONE="Mars/Olympus")))


def test_an_unreachable_database_is_one_line(settings_env):
    env = settings_env(DATABASE_URL="postgres://ainvr@127.0.0.1:1/ainvr")
    line = one_line(run([sys.executable, "manage.py", "migrate"], env))
    assert line.startswith("cannot reach DATABASE_URL")


def test_traceback_still_shows_the_traceback(settings_env):
    result = run([sys.executable, "manage.py", "migrate", "--traceback"], settings_env(TIME_ZONE="Mars/Olympus"))
    assert result.returncode != 0 and "Traceback" in result.stderr


# ./scripts/manage


@pytest.fixture
def manage_env(settings_env, tmp_path):
    """The environment of a user's shell after ./scripts/up: nothing of AINVR set, a .env in
    the project (here ENV_FILE), and the virtualenv this test runs in (so none is built)."""
    env = settings_env(DATA_DIR=None, DEBUG=None, ENV_FILE=str(tmp_path / "project.env"))
    env.update(AINVR_REQUIREMENTS="requirements/dev.txt", AINVR_VENV_ROOT=str(Path(sys.prefix).parent))
    if Path(sys.prefix).name.split("-")[0] != "dev":
        pytest.skip("not running in a virtualenv that scripts/lib.sh built from requirements/dev.txt")
    return env


def test_scripts_manage_runs_a_command_from_any_folder(manage_env, tmp_path):
    (tmp_path / "project.env").write_text(f"DATA_DIR={tmp_path / 'site'}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = run([str(REPO / "scripts" / "manage"), "analyze", "--help"], manage_env, cwd=elsewhere, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: manage.py analyze" in result.stdout and "--camera" in result.stdout

    # The same defaults as scripts/up: DEBUG on, data where .env says.
    code = "from django.conf import settings; print(settings.DEBUG, settings.DATA_DIR)"
    result = run([str(REPO / "scripts" / "manage"), "shell", "-c", code], manage_env, cwd=elsewhere, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1].split() == ["True", str(tmp_path / "site")]
    assert result.stderr == ""  # no "using virtualenv" chatter around a command's output


def test_scripts_manage_keeps_the_env_files_debug_off(manage_env, tmp_path):
    (tmp_path / "project.env").write_text(f"DEBUG=false\nDATA_DIR={tmp_path / 'site'}\n")

    line = one_line(run([str(REPO / "scripts" / "manage"), "analyze", "--help"], manage_env, timeout=300))
    assert line.startswith("SECRET_KEY is required when DEBUG is off")
