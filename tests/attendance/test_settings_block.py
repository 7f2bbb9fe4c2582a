"""The attendance settings refuse values they cannot use, naming the variable (fresh interpreter per case)."""

from __future__ import annotations

import pytest

from tests.ainvr.conftest import load_settings, settings_env  # noqa: F401  (fixtures)
from tests.ainvr.test_settings_refuse_bad_values import refusal


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ATTENDANCE_FACE_BACKEND", "dlib"),
        ("ATTENDANCE_MATCH_THRESHOLD", "high"),
        ("ATTENDANCE_MATCH_THRESHOLD", "1.5"),
        ("ATTENDANCE_MIN_SHARPNESS", "-3"),
        ("ATTENDANCE_ABSENCE_SECONDS", "0"),
        ("ATTENDANCE_EVENT_RETENTION_DAYS", "forever"),
        ("ATTENDANCE_VOTE_MIN", "50"),  # more than the window of 7
    ],
)
def test_a_bad_attendance_value_stops_start_up(variable, value, settings_env, load_settings):  # noqa: F811
    assert variable in refusal(load_settings(settings_env(**{variable: value})))
