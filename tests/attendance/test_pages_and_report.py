"""The attendance pages (panel, state JSON, report with CSV) and the report API."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from attendance.models import AlertLog, DailyAttendance, Presence

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def office(employee_factory, camera, settings):
    settings.TIME_ZONE = "Europe/Paris"
    grace = employee_factory("Grace Hopper", department="Navy")
    eileen = employee_factory("Eileen Collins", department="NASA")
    employee_factory("Retired Person", active=False)
    now = timezone.now()
    Presence.objects.create(
        employee=grace, state="available", since=now - timedelta(hours=2), last_seen=now, last_camera=camera
    )
    Presence.objects.create(
        employee=eileen, state="off", since=now - timedelta(minutes=5), last_seen=now - timedelta(minutes=5)
    )
    AlertLog.objects.create(employee=eileen, camera=camera, started=now, message="Eileen Collins not seen for 60 s.")
    for day, start, end in [(date(2026, 3, 2), 8, 17), (date(2026, 3, 3), 9, 18), (date(2026, 3, 9), 7, 12)]:
        DailyAttendance.objects.create(
            employee=grace,
            date=day,
            first_in=datetime(day.year, day.month, day.day, start, 5, tzinfo=PARIS),
            last_out=datetime(day.year, day.month, day.day, end, 35, tzinfo=PARIS),
        )
    DailyAttendance.objects.create(
        employee=eileen,
        date=date(2026, 3, 3),
        first_in=datetime(2026, 3, 3, 10, 0, tzinfo=PARIS),
        last_out=datetime(2026, 3, 3, 10, 30, tzinfo=PARIS),
    )
    return {"grace": grace, "eileen": eileen}


def test_the_panel_shows_who_is_in_since_when_and_where(admin_client, office, camera):
    page = admin_client.get("/attendance/").content.decode()
    assert "Grace Hopper" in page and "Eileen Collins" in page and "Retired Person" not in page
    assert camera.name in page
    assert "Eileen Collins not seen for 60 s." in page
    assert "extends" not in page and "<nav" in page  # rendered inside the site's base layout


def test_the_state_json_carries_presence_today_and_open_alerts(admin_client, office, camera):
    data = admin_client.get("/attendance/state.json").json()
    assert data["counts"] == {"available": 1, "off": 1}
    by_name = {row["name"]: row for row in data["employees"]}
    assert by_name["Grace Hopper"]["state"] == "available" and by_name["Grace Hopper"]["last_camera"] == camera.slug
    assert by_name["Eileen Collins"]["state"] == "off"
    assert [a["employee"] for a in data["alerts"]] == ["Eileen Collins"]


def test_operators_see_no_attendance(operator_client, office):
    for url in ("/attendance/", "/attendance/state.json", "/attendance/report/", "/attendance/report/?format=csv"):
        assert operator_client.get(url).status_code == 403


def test_the_report_lists_each_day_in_range(admin_client, office):
    page = admin_client.get("/attendance/report/?date_from=2026-03-01&date_to=2026-03-03").content.decode()
    assert page.count("Grace Hopper") == 2 and page.count("Eileen Collins") == 1
    assert "2026-03-09" not in page
    assert "08:05:00" in page and "17:35:00" in page  # local (Paris) times


def test_the_csv_export_holds_exactly_the_rows_in_range(admin_client, office):
    response = admin_client.get("/attendance/report/?date_from=2026-03-03&date_to=2026-03-09&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="attendance-2026-03-03-2026-03-09.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["date"], r["name"]) for r in rows] == [
        ("2026-03-03", "Eileen Collins"),
        ("2026-03-03", "Grace Hopper"),
        ("2026-03-09", "Grace Hopper"),
    ]
    assert rows[1]["first_in"] == "2026-03-03T09:05:00+01:00" and rows[1]["hours"] == "9.50"


def test_a_name_cannot_smuggle_a_spreadsheet_formula_into_the_csv(admin_client, office):
    office["grace"].name = '=HYPERLINK("http://evil")'
    office["grace"].save()
    body = admin_client.get("/attendance/report/?date_from=2026-03-02&date_to=2026-03-02&format=csv").content.decode()
    assert "'=HYPERLINK" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-03-05&date_to=2026-03-01", "The end must not be before the start."),
        ("date_from=2024-01-01&date_to=2026-01-01", "at most 366 days"),
        ("date_from=yesterday&date_to=2026-01-01", "Enter a valid date."),
    ],
)
def test_a_bad_range_is_a_400_with_the_reason(query, message, admin_client, office):
    response = admin_client.get(f"/attendance/report/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_the_report_api_returns_rows_and_checks_its_dates(persona_api_client, office):
    client = persona_api_client("admin")
    rows = client.get("/api/attendance/report?from_date=2026-03-02&to_date=2026-03-03").json()
    assert [(r["date"], r["name"], r["hours"]) for r in rows] == [
        ("2026-03-02", "Grace Hopper", 9.5),
        ("2026-03-03", "Eileen Collins", 0.5),
        ("2026-03-03", "Grace Hopper", 9.5),
    ]
    only = client.get(f"/api/attendance/report?from_date=2026-03-01&to_date=2026-03-31&employee={office['eileen'].pk}")
    assert [r["name"] for r in only.json()] == ["Eileen Collins"]
    bad = client.get("/api/attendance/report?from_date=2026-03-05&to_date=2026-03-01")
    assert bad.status_code == 400 and "to_date" in bad.json()
    assert client.get("/api/attendance/report").status_code == 400
    assert (
        persona_api_client("operator").get("/api/attendance/report?from_date=2026-03-02&to_date=2026-03-03").status_code
        == 403
    )


def test_without_dates_the_report_covers_the_last_seven_days(admin_client, office):
    today = timezone.localdate()
    DailyAttendance.objects.create(
        employee=office["grace"],
        date=today,
        first_in=timezone.now() - timedelta(minutes=1),
        last_out=timezone.now(),
    )
    rows = list(csv.DictReader(io.StringIO(admin_client.get("/attendance/report/?format=csv").content.decode())))
    assert [(r["date"], r["name"]) for r in rows] == [(today.isoformat(), "Grace Hopper")]
    page = admin_client.get("/attendance/report/").content.decode()
    assert (today - timedelta(days=6)).isoformat() in page and 'id="reset-logs"' in page
