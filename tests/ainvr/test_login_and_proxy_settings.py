"""The login lockout, proxy count and token age settings: read from the environment,
refused with the variable's name when wrong, and checked by `check --deploy` behind a proxy."""

from __future__ import annotations

import pytest

from tests.ainvr.test_deploy_check import STRONG_KEY, deploy_check
from tests.ainvr.test_settings_refuse_bad_values import refusal


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NUM_PROXIES", "-1"),
        ("NUM_PROXIES", "one"),
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("LOGIN_FAILURE_LIMIT", "many"),
        ("LOGIN_LOCKOUT_MINUTES", "0"),
        ("API_TOKEN_MAX_AGE_DAYS", "-5"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(settings_env, load_settings, variable, value):
    assert variable in refusal(load_settings(settings_env(**{variable: value})))


NAMES = ("NUM_PROXIES", "REST_FRAMEWORK", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME", "API_TOKEN_MAX_AGE_DAYS")


def test_the_defaults_trust_no_proxy_and_lock_after_five_failures(settings_env, settings_values):
    values = settings_values(settings_env(), *NAMES)
    assert values["NUM_PROXIES"] == 0 and values["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert values["AXES_FAILURE_LIMIT"] == 5 and values["AXES_COOLOFF_TIME"] == "0:15:00"
    assert values["API_TOKEN_MAX_AGE_DAYS"] == 0


def test_one_value_sets_the_proxy_count_for_logins_and_the_api(settings_env, settings_values):
    env = settings_env(NUM_PROXIES="2", LOGIN_FAILURE_LIMIT="8", LOGIN_LOCKOUT_MINUTES="60")
    values = settings_values({**env, "API_TOKEN_MAX_AGE_DAYS": "90"}, *NAMES)
    assert values["NUM_PROXIES"] == 2 and values["REST_FRAMEWORK"]["NUM_PROXIES"] == 2
    assert values["AXES_FAILURE_LIMIT"] == 8 and values["AXES_COOLOFF_TIME"] == "1:00:00"
    assert values["API_TOKEN_MAX_AGE_DAYS"] == 90


@pytest.fixture
def behind_nginx(tmp_path, settings_env):
    return settings_env(
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        HTTPS="true",
        TRUST_X_FORWARDED_PROTO="true",
        ALLOWED_HOSTS="nvr.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ainvr.sqlite3'}",
    )


def test_the_deploy_check_warns_behind_a_proxy_without_a_proxy_count(behind_nginx):
    result = deploy_check({**behind_nginx, "NUM_PROXIES": "0"})
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr and "NUM_PROXIES" in result.stderr


def test_the_deploy_check_is_clean_behind_a_proxy_with_its_count(behind_nginx):
    result = deploy_check({**behind_nginx, "NUM_PROXIES": "1"})
    assert result.returncode == 0, result.stderr
