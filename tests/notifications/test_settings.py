"""The notification settings refuse values they cannot use, naming the variable, and have
working defaults."""

from __future__ import annotations

import pytest

from tests.ainvr.conftest import load_settings, settings_env, settings_values  # noqa: F401
from tests.ainvr.test_settings_refuse_bad_values import refusal


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PUBLIC_URL", "nvr.example.com"),
        ("NOTIFICATIONS_RETRY_SECONDS", "30,soon"),
        ("NOTIFICATIONS_RETRY_SECONDS", "-5"),
        ("NOTIFICATIONS_RETRY_SECONDS", ","),
        ("NOTIFICATIONS_FAILURE_LIMIT", "0"),
        ("NOTIFICATIONS_TIMEOUT", "600"),
        ("NOTIFICATIONS_KEEP_DAYS", "forever"),
        ("WEBPUSH_TTL", "-1"),
        ("WEBPUSH_SUBJECT", "ops@example.com"),
    ],
)
def test_a_bad_value_stops_start_up_naming_it(settings_env, load_settings, variable, value):  # noqa: F811
    assert variable in refusal(load_settings(settings_env(**{variable: value})))


def test_the_defaults(settings_env, settings_values):  # noqa: F811
    values = settings_values(
        settings_env(DEFAULT_FROM_EMAIL="AINVR <nvr@example.com>", PUBLIC_URL="https://nvr.example.com/"),
        "PUBLIC_URL", "NOTIFICATIONS_RETRY_SECONDS", "WEBPUSH_SUBJECT", "EMAIL_TIMEOUT",
    )  # fmt: skip
    assert values == {
        "PUBLIC_URL": "https://nvr.example.com",
        "NOTIFICATIONS_RETRY_SECONDS": [30, 120, 600, 1800, 3600],
        "WEBPUSH_SUBJECT": "mailto:nvr@example.com",
        "EMAIL_TIMEOUT": 10,
    }
