"""WORKER_HOST_ID: this runworkers host's name among the hosts sharing the database, the
machine's hostname unless set; a bad value stops the program with one line naming it."""

from __future__ import annotations

import json
import socket


def test_it_defaults_to_the_hostname_and_takes_a_name(settings_env, load_settings):
    default = load_settings(settings_env(WORKER_HOST_ID=None), "WORKER_HOST_ID")
    named = load_settings(settings_env(WORKER_HOST_ID="nvr-2.site"), "WORKER_HOST_ID")

    assert json.loads(default.stdout) == {"WORKER_HOST_ID": socket.gethostname()}, default.stderr
    assert json.loads(named.stdout) == {"WORKER_HOST_ID": "nvr-2.site"}, named.stderr


def test_a_bad_value_is_refused_naming_the_variable(settings_env, load_settings):
    for bad in ("two words", "x" * 201, "nvr/1"):
        result = load_settings(settings_env(WORKER_HOST_ID=bad), "WORKER_HOST_ID")
        assert result.returncode != 0
        assert "WORKER_HOST_ID" in result.stderr.strip().splitlines()[-1]
