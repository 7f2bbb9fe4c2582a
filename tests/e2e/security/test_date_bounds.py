"""Every date bound a client gives (API bodies, API filters, the pages' forms) is checked
alike: years 1970 to 2999, and an empty value is a 400 naming the field, never "no bound"
and never a 500. Nothing stored is touched by a refused request."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from attendance.models import AlertLog, AttendanceEvent, Employee

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2025, 6, 10, 10, 0, tzinfo=PARIS)
OUT_OF_RANGE_DAYS = ["9999-12-31", "3000-01-01", "1969-12-31", "0001-01-01"]


@pytest.fixture
def stored_logs(db):
    employee = Employee.objects.create(code="E1", name="Eve Example")
    for day in range(5):
        AttendanceEvent.objects.create(employee=employee, time=T0 + timedelta(days=day), kind="sighting")
        AlertLog.objects.create(employee=employee, started=T0 + timedelta(days=day))
    return 5


def nothing_deleted(count: int) -> bool:
    return AttendanceEvent.objects.count() == count and AlertLog.objects.count() == count


@pytest.mark.parametrize("value", OUT_OF_RANGE_DAYS)
@pytest.mark.parametrize("field", ["from_date", "to_date"])
def test_reset_logs_refuses_a_year_out_of_range_with_a_400_naming_the_field(
    field, value, stored_logs, persona_api_client
):
    body = {"table": "both", field: value}
    response = persona_api_client("admin").post("/api/admin/reset_logs", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert "1970" in response.json()[field][0]
    assert nothing_deleted(stored_logs)


@pytest.mark.parametrize("field", ["from_date", "to_date"])
def test_reset_logs_refuses_an_empty_date_instead_of_deleting_without_a_bound(field, stored_logs, persona_api_client):
    body = {"table": "both", "from_date": "2025-06-12", "to_date": "2025-06-12", field: ""}
    response = persona_api_client("admin").post("/api/admin/reset_logs", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert nothing_deleted(stored_logs)


def test_reset_logs_refuses_a_form_post_which_cannot_say_null(stored_logs, persona_api_client):
    body = {"table": "both", "from_date": "2025-06-12", "to_date": ""}
    response = persona_api_client("admin").post("/api/admin/reset_logs", body, format="multipart")
    assert response.status_code == 415
    assert nothing_deleted(stored_logs)


@pytest.mark.parametrize("field", ["from_date", "to_date"])
def test_a_day_field_in_form_data_refuses_an_empty_value_rather_than_reading_null(field):
    from django.http import QueryDict

    from attendance.api import ResetLogsSerializer

    incoming = ResetLogsSerializer(data=QueryDict(f"table=both&{field}="))
    assert not incoming.is_valid()
    assert list(incoming.errors) == [field]


@pytest.mark.parametrize(
    "query",
    [
        "from_date=9999-12-30&to_date=9999-12-31",
        "from_date=1969-12-31&to_date=1970-01-02",
        "from_date=&to_date=2025-06-12",
        "from_date=2025-06-10&to_date=",
    ],
)
def test_the_attendance_report_api_refuses_days_out_of_range_or_empty(query, persona_api_client, db):
    response = persona_api_client("admin").get(f"/api/attendance/report?{query}")
    assert response.status_code == 400
    assert set(response.json()) <= {"from_date", "to_date"}


@pytest.mark.parametrize("url", ["/api/segments/", "/api/detections/"])
@pytest.mark.parametrize("field", ["start", "end"])
def test_an_empty_time_filter_is_a_400_not_no_filter(url, field, persona_api_client, db):
    response = persona_api_client("operator").get(f"{url}?{field}=")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("url", ["/api/segments/", "/api/detections/"])
def test_a_time_filter_past_2999_is_a_400(url, persona_api_client, db):
    response = persona_api_client("operator").get(f"{url}?end=9999-12-31T23:59:59Z")
    assert response.status_code == 400
    assert list(response.json()) == ["end"]


@pytest.mark.parametrize(
    "query",
    ["date_from=9999-12-30&date_to=9999-12-31", "date_from=1969-12-30&date_to=1969-12-31", "date_from=&date_to="],
)
def test_the_attendance_report_page_refuses_days_out_of_range_or_empty(query, admin_client):
    response = admin_client.get(f"/attendance/report/?{query}")
    assert response.status_code == 400
    assert b"errorlist" in response.content


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("9999-12-31T10:00:00", "9999-12-31T11:00:00", "start"),
        ("2025-06-10T10:00:00", "3000-01-01T00:00:00", "end"),
        ("1969-12-31T23:00:00", "2025-06-10T10:00:00", "start"),
    ],
)
def test_the_analysis_form_refuses_moments_out_of_range(start, end, field, operator_client, camera):
    response = operator_client.post("/analysis/", {"camera": camera.slug, "start": start, "end": end})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["Use a year from 1970 to 2999."]


@pytest.mark.parametrize("day", ["9999-12-31", "1969-12-31", "2026-02-30", ""])
def test_the_playback_timeline_refuses_a_day_out_of_range(day, operator_client, camera):
    response = operator_client.get(f"/playback/timeline/?camera={camera.slug}&date={day}")
    assert response.status_code == 400
