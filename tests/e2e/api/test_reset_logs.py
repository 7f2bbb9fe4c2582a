"""POST /api/admin/reset_logs: delete attendance events and/or alert logs over whole local
days, admins only, answering exactly how many rows went."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from attendance.models import AlertLog, AttendanceEvent, Employee

URL = "/api/admin/reset_logs"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def paris_time(settings):
    """The day boundaries below are Paris's (UTC+2 in June), whatever the environment says."""
    settings.TIME_ZONE = "Europe/Paris"


@pytest.fixture
def employee(db):
    return Employee.objects.create(code="E1", name="Eve Example")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# Around a range of 2025-06-10 to 2025-06-12: the first and last instants inside, and the
# nearest ones just outside on each side.
INSIDE = [
    paris(2025, 6, 10, 0, 0, 0),
    paris(2025, 6, 11, 12, 0),
    paris(2025, 6, 12, 23, 59, 59),
    paris(2025, 6, 12, 23, 59, 59, 999999),
]
OUTSIDE = [paris(2025, 6, 9, 23, 59, 59), paris(2025, 6, 9, 23, 59, 59, 999999), paris(2025, 6, 13, 0, 0, 0)]
RANGE = {"from_date": "2025-06-10", "to_date": "2025-06-12"}


def add_events(employee, times):
    return [AttendanceEvent.objects.create(employee=employee, time=t, kind="sighting").pk for t in times]


def add_alerts(employee, times):
    return [AlertLog.objects.create(employee=employee, started=t).pk for t in times]


def reset(client, **body):
    return client.post(URL, body, format="json")


def remaining_event_times():
    return sorted(AttendanceEvent.objects.values_list("time", flat=True))


def remaining_alert_times():
    return sorted(AlertLog.objects.values_list("started", flat=True))


def test_it_deletes_events_over_whole_local_days_and_counts_them(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    add_alerts(employee, INSIDE)

    response = reset(persona_api_client("admin"), table="events", **RANGE)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "dry_run": False, "deleted_events": len(INSIDE), "deleted_alert_logs": 0}
    assert remaining_event_times() == sorted(OUTSIDE)
    assert remaining_alert_times() == sorted(INSIDE)  # "events" leaves the alert logs alone


def test_it_deletes_alert_logs_only_when_asked_for_alert_logs(employee, persona_api_client):
    add_events(employee, INSIDE)
    add_alerts(employee, INSIDE + OUTSIDE)

    response = reset(persona_api_client("admin"), table="alert_logs", **RANGE)

    assert response.json() == {"ok": True, "dry_run": False, "deleted_events": 0, "deleted_alert_logs": len(INSIDE)}
    assert remaining_alert_times() == sorted(OUTSIDE)
    assert remaining_event_times() == sorted(INSIDE)


def test_it_deletes_from_both_tables_and_counts_each(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    add_alerts(employee, INSIDE[:2] + OUTSIDE)

    response = reset(persona_api_client("admin"), table="both", **RANGE)

    assert response.json() == {"ok": True, "dry_run": False, "deleted_events": 4, "deleted_alert_logs": 2}
    assert remaining_event_times() == sorted(OUTSIDE)
    assert remaining_alert_times() == sorted(OUTSIDE)


@pytest.mark.parametrize(
    ("table", "deleted_events", "deleted_alert_logs"),
    [("events", 7, 0), ("alert_logs", 0, 5), ("both", 7, 5)],
)
def test_without_dates_it_empties_the_chosen_tables(
    table, deleted_events, deleted_alert_logs, employee, persona_api_client
):
    add_events(employee, INSIDE + OUTSIDE)
    add_alerts(employee, INSIDE + OUTSIDE[:1])

    response = reset(persona_api_client("admin"), table=table, confirm_all=True)

    assert response.json() == {
        "ok": True,
        "dry_run": False,
        "deleted_events": deleted_events,
        "deleted_alert_logs": deleted_alert_logs,
    }
    assert AttendanceEvent.objects.count() == 7 - deleted_events
    assert AlertLog.objects.count() == 5 - deleted_alert_logs


def test_null_dates_mean_no_bound(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    response = reset(persona_api_client("admin"), table="events", from_date=None, to_date=None, confirm_all=True)
    assert response.json()["deleted_events"] == 7


def test_no_dates_without_confirm_all_is_refused_and_deletes_nothing(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    response = reset(persona_api_client("admin"), table="both")
    assert response.status_code == 400 and "confirm_all" in response.json()
    assert AttendanceEvent.objects.count() == 7


def test_a_dry_run_counts_what_would_go_and_deletes_nothing(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    add_alerts(employee, INSIDE[:1])
    response = reset(persona_api_client("admin"), table="both", dry_run=True, **RANGE)
    assert response.json() == {"ok": True, "dry_run": True, "deleted_events": 4, "deleted_alert_logs": 1}
    assert AttendanceEvent.objects.count() == 7 and AlertLog.objects.count() == 1
    # Without dates a dry run needs no confirmation: it deletes nothing.
    assert reset(persona_api_client("admin"), table="events", dry_run=True).json()["deleted_events"] == 7


def test_the_confirmed_count_must_still_hold(employee, persona_api_client):
    add_events(employee, INSIDE)
    client = persona_api_client("admin")
    response = reset(client, table="events", expected=len(INSIDE) - 1, **RANGE)
    assert response.status_code == 400 and "4 rows would now be deleted" in response.json()["expected"][0]
    assert AttendanceEvent.objects.count() == len(INSIDE)
    response = reset(client, table="events", expected=len(INSIDE), **RANGE)
    assert response.json()["deleted_events"] == len(INSIDE)


def test_a_from_date_alone_leaves_the_end_open(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    response = reset(persona_api_client("admin"), table="events", from_date="2025-06-13")
    assert response.json()["deleted_events"] == 1
    assert remaining_event_times() == sorted(INSIDE + OUTSIDE[:2])


def test_a_to_date_alone_leaves_the_start_open(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    response = reset(persona_api_client("admin"), table="events", to_date="2025-06-09")
    assert response.json()["deleted_events"] == 2
    assert remaining_event_times() == sorted(INSIDE + OUTSIDE[2:])


def test_a_single_day_range_is_that_whole_day(employee, persona_api_client):
    add_events(employee, INSIDE + OUTSIDE)
    response = reset(persona_api_client("admin"), table="events", from_date="2025-06-12", to_date="2025-06-12")
    assert response.json()["deleted_events"] == 2
    assert paris(2025, 6, 12, 23, 59, 59) not in remaining_event_times()


@pytest.mark.parametrize(
    ("from_date", "to_date", "inside", "outside"),
    [
        # Clocks go forward on 2025-03-30: that day has 23 hours.
        (
            "2025-03-30",
            "2025-03-30",
            [paris(2025, 3, 30, 0, 0), paris(2025, 3, 30, 23, 59, 59)],
            [paris(2025, 3, 29, 23, 59, 59), paris(2025, 3, 31, 0, 0)],
        ),
        # Clocks go back on 2025-10-26: that day has 25 hours.
        (
            "2025-10-26",
            "2025-10-26",
            [paris(2025, 10, 26, 0, 0), paris(2025, 10, 26, 23, 59, 59)],
            [paris(2025, 10, 25, 23, 59, 59), paris(2025, 10, 27, 0, 0)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_days_are_whole_across_daylight_saving_changes(
    from_date, to_date, inside, outside, employee, persona_api_client
):
    add_events(employee, inside + outside)
    response = reset(persona_api_client("admin"), table="events", from_date=from_date, to_date=to_date)
    assert response.json()["deleted_events"] == len(inside)
    assert remaining_event_times() == sorted(outside)


@pytest.mark.parametrize(("time_zone", "deleted"), [("Europe/Paris", 0), ("UTC", 1)])
def test_days_follow_the_configured_time_zone(time_zone, deleted, settings, employee, persona_api_client):
    settings.TIME_ZONE = time_zone
    # 22:30 UTC on June 10 is already 00:30 on June 11 in Paris.
    add_events(employee, [datetime(2025, 6, 10, 22, 30, tzinfo=ZoneInfo("UTC"))])
    response = reset(persona_api_client("admin"), table="events", from_date="2025-06-10", to_date="2025-06-10")
    assert response.json()["deleted_events"] == deleted


@pytest.mark.parametrize("table", ["logs", "", "EVENTS", None])
def test_an_unknown_table_is_refused_naming_the_field(table, employee, persona_api_client):
    add_events(employee, INSIDE)
    response = reset(persona_api_client("admin"), table=table)
    assert response.status_code == 400
    assert "table" in response.json()
    assert AttendanceEvent.objects.count() == len(INSIDE)


def test_a_missing_table_is_refused(employee, persona_api_client):
    add_events(employee, INSIDE)
    response = reset(persona_api_client("admin"), **RANGE)
    assert response.status_code == 400
    assert "table" in response.json()
    assert AttendanceEvent.objects.count() == len(INSIDE)


@pytest.mark.parametrize("value", ["2025-13-01", "12/05/2025", "yesterday", "2025-06-10T00:00:00", "2025-02-30"])
@pytest.mark.parametrize("field", ["from_date", "to_date"])
def test_a_bad_date_is_refused_naming_the_field(field, value, employee, persona_api_client):
    add_events(employee, INSIDE)
    body = {"table": "both", **RANGE, field: value}
    response = reset(persona_api_client("admin"), **body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert AttendanceEvent.objects.count() == len(INSIDE)


def test_a_from_date_after_the_to_date_is_refused(employee, persona_api_client):
    add_events(employee, INSIDE)
    response = reset(persona_api_client("admin"), table="both", from_date="2025-06-12", to_date="2025-06-10")
    assert response.status_code == 400
    assert "to_date" in response.json()
    assert AttendanceEvent.objects.count() == len(INSIDE)


def test_it_rejects_operator(employee, persona_api_client):
    add_events(employee, INSIDE)
    add_alerts(employee, INSIDE)
    response = reset(persona_api_client("operator"), table="both")
    assert response.status_code == 403
    assert (AttendanceEvent.objects.count(), AlertLog.objects.count()) == (len(INSIDE), len(INSIDE))


def test_it_rejects_anonymous(employee, persona_api_client):
    add_events(employee, INSIDE)
    add_alerts(employee, INSIDE)
    response = reset(persona_api_client("anonymous"), table="both")
    assert response.status_code == 401
    assert (AttendanceEvent.objects.count(), AlertLog.objects.count()) == (len(INSIDE), len(INSIDE))


def test_it_rejects_an_operator_session_too(employee, operator_client):
    add_events(employee, INSIDE)
    response = operator_client.post(URL, {"table": "both"}, content_type="application/json")
    assert response.status_code == 403
    assert AttendanceEvent.objects.count() == len(INSIDE)
