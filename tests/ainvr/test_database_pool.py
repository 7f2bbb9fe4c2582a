"""The web server pools its PostgreSQL connections; nothing else does, and nothing it starts
inherits the pool."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.installs import REPO

POSTGRES = "postgres://ainvr@127.0.0.1:5432/ainvr"


def databases(load_settings, env) -> dict:
    done = load_settings(env, "DATABASES")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["DATABASES"]["default"]


def test_a_pool_only_when_asked_and_only_for_postgresql(settings_env, load_settings):
    pooled = databases(load_settings, settings_env(DATABASE_URL=POSTGRES, DATABASE_POOL="true", DATABASE_POOL_SIZE="4"))
    plain = databases(load_settings, settings_env(DATABASE_URL=POSTGRES))
    sqlite = databases(load_settings, settings_env(DATABASE_POOL="true"))

    assert pooled["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 4}
    assert "pool" not in plain.get("OPTIONS", {})
    assert "pool" not in sqlite["OPTIONS"]  # SQLite has its own options, and no pool


def test_the_web_server_pools_without_passing_it_on(settings_env):
    """ainvr.asgi asks for the pool while its settings load, then takes the variable back:
    processes it starts (or a test process that imports it) must not pool."""
    code = (
        "import json, os; import ainvr.asgi; from django.db import connections; print(json.dumps("
        "[connections['default'].settings_dict['OPTIONS'].get('pool'), os.environ.get('DATABASE_POOL')]))"
    )
    env = settings_env(DATABASE_URL=POSTGRES, DATABASE_POOL=None)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    pool, variable_after = json.loads(done.stdout)
    assert pool == {"min_size": 2, "max_size": 10} and variable_after is None


def test_a_worker_drops_the_pool_for_a_kept_connection(settings):
    from django.db import connections

    from core.db import keep_connection

    settings_dict = connections["default"].settings_dict
    saved = dict(settings_dict), dict(settings_dict.get("OPTIONS", {}))
    try:
        settings_dict["OPTIONS"] = {**saved[1], "pool": {"min_size": 2, "max_size": 4}}
        keep_connection(600)
        assert "pool" not in settings_dict["OPTIONS"] and settings_dict["CONN_MAX_AGE"] == 600
    finally:
        settings_dict.clear()
        settings_dict.update(saved[0])
        settings_dict["OPTIONS"] = saved[1]
