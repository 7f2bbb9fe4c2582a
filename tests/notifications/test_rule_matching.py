"""Which rules fire: cameras, classes, confidence, attendance kinds, days and time windows
in the site's time zone (Europe/Paris in tests)."""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from notifications.matching import OBJECT, Trigger, is_active, matches
from notifications.models import Rule

PARIS = ZoneInfo("Europe/Paris")
ALL_DAYS = list(range(7))


def rule(**fields):
    defaults = dict(enabled=True, labels=["person"], attendance_kinds=[], min_confidence=0.5, weekdays=ALL_DAYS,
                    active_from=None, active_until=None)  # fmt: skip
    return SimpleNamespace(**{**defaults, **fields})


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def person(at=None, camera_id=1, confidence=0.8, label="person"):
    return Trigger(kind=OBJECT, at=at or paris(2026, 3, 4, 12, 0), camera_id=camera_id, label=label,
                   confidence=confidence)  # fmt: skip


def test_no_cameras_chosen_means_every_camera():
    assert matches(rule(), person(camera_id=7), set())
    assert matches(rule(), person(camera_id=7), {7, 8})
    assert not matches(rule(), person(camera_id=9), {7, 8})


def test_the_class_and_the_minimum_confidence_must_both_match():
    assert matches(rule(min_confidence=0.8), person(confidence=0.8), set())
    assert not matches(rule(min_confidence=0.8), person(confidence=0.79), set())
    assert not matches(rule(), person(label="car"), set())


def test_attendance_kinds_match_by_name_and_ignore_confidence():
    arrived = Trigger(kind="arrived", at=paris(2026, 3, 4, 9, 0), camera_id=None)
    assert matches(rule(labels=[], attendance_kinds=["arrived", "absence"], min_confidence=0.99), arrived, set())
    assert not matches(rule(labels=["person"], attendance_kinds=["absence"]), arrived, set())
    # A rule limited to cameras does not match an event without one.
    assert not matches(rule(attendance_kinds=["arrived"]), arrived, {1})


def test_a_disabled_rule_matches_nothing():
    assert not matches(rule(enabled=False), person(), set())


def test_a_day_window_holds_in_the_site_time_zone():
    office = rule(active_from=time(8, 0), active_until=time(18, 0), weekdays=[0, 1, 2, 3, 4])
    assert is_active(office, paris(2026, 3, 4, 8, 0))  # Wednesday 08:00 Paris
    assert is_active(office, paris(2026, 3, 4, 17, 59))
    assert not is_active(office, paris(2026, 3, 4, 18, 0))
    assert not is_active(office, paris(2026, 3, 4, 7, 59))
    # 07:30 UTC is 08:30 in Paris (winter): inside, although 07:30 is before 08:00.
    assert is_active(office, datetime(2026, 3, 4, 7, 30, tzinfo=ZoneInfo("UTC")))
    # Saturday is not ticked.
    assert not is_active(office, paris(2026, 3, 7, 12, 0))


def test_the_time_zone_follows_daylight_saving():
    office = rule(active_from=time(8, 0), active_until=time(18, 0))
    # 06:30 UTC is 08:30 in Paris in summer (UTC+2), 07:30 in winter (UTC+1).
    assert is_active(office, datetime(2026, 7, 1, 6, 30, tzinfo=ZoneInfo("UTC")))
    assert not is_active(office, datetime(2026, 1, 7, 6, 30, tzinfo=ZoneInfo("UTC")))


def test_a_window_across_midnight_belongs_to_the_day_it_starts_on():
    friday_night = rule(active_from=time(22, 0), active_until=time(6, 0), weekdays=[4])
    assert is_active(friday_night, paris(2026, 3, 6, 23, 0))  # Friday 23:00
    assert is_active(friday_night, paris(2026, 3, 7, 5, 59))  # Saturday 05:59, still Friday's night
    assert not is_active(friday_night, paris(2026, 3, 7, 6, 0))
    assert not is_active(friday_night, paris(2026, 3, 6, 5, 0))  # Friday early morning: Thursday's night
    assert not is_active(friday_night, paris(2026, 3, 6, 12, 0))


def test_after_hours_rule_ignores_office_hours():
    after_hours = rule(active_from=time(19, 0), active_until=time(7, 0))
    assert matches(after_hours, person(at=paris(2026, 3, 4, 21, 30)), set())
    assert not matches(after_hours, person(at=paris(2026, 3, 4, 12, 0)), set())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"labels": [], "attendance_kinds": []}, "__all__"),
        ({"active_from": time(8, 0)}, "active_until"),
        ({"active_from": time(8, 0), "active_until": time(8, 0)}, "active_until"),
        ({"weekdays": []}, "weekdays"),
        ({"attendance_kinds": ["absence_alert"]}, "attendance_kinds"),
        ({"labels": ["unicorn"]}, "labels"),
    ],
)
def test_a_rule_that_cannot_work_is_refused(db, fields, field):
    with pytest.raises(ValidationError) as e:
        Rule(**{"name": "Bad", "labels": ["person"], **fields}).full_clean()
    assert field in e.value.message_dict
