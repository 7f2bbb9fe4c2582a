"""The navigation shows each role what it may use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse


def nav(client) -> str:
    html = client.get("/live/").content.decode()
    return html[html.index('<div id="main-nav"') : html.index("</nav>")]


def test_the_operator_sees_live_playback_and_analysis_but_no_settings(operator_client, db):
    links = nav(operator_client)
    for href in ('href="/live/"', 'href="/playback/"', 'href="/analysis/"'):
        assert href in links
    assert "/admin/" not in links
    assert 'aria-current="page">Live' in links


def test_the_admin_also_sees_settings(admin_client, db):
    assert 'href="/admin/">Settings' in nav(admin_client)


def test_attendance_is_linked_for_admins_only(admin_client, operator_client, db):
    assert 'href="/attendance/"' in nav(admin_client)
    assert "Attendance" not in nav(operator_client)  # attendance names people: admins only


@pytest.mark.parametrize("url", ["/live/", "/playback/", "/analysis/"])
def test_every_page_has_a_skip_link_and_the_alerts_menu(operator_client, db, url):
    html = operator_client.get(url).content.decode()
    assert 'class="skip" href="#main"' in html
    assert "data-alerts-badge" in html
    assert 'data-dashboard-socket="/ws/dashboard/"' in html


def test_the_alerts_feed_links_each_alert_to_its_moment(admin_client, operator_client, camera):
    from django.utils import timezone

    from attendance.models import AlertLog, Employee
    from detection.services import start_object_event

    now = timezone.now().replace(microsecond=0)
    employee = Employee.objects.create(code="E9", name="Eve Example")
    alert = AlertLog.objects.create(employee=employee, camera=camera, started=now, message="Away for 20 minutes")
    person = start_object_event(camera=camera, label="person", confidence=0.8, box=[0, 0, 1, 1], track_id=1, at=now)
    start_object_event(  # a car: a detection, not an alert (the camera alerts on people)
        camera=camera, label="car", confidence=0.8, box=[0, 0, 1, 1], track_id=2, at=now + timedelta(minutes=5)
    )
    feed = admin_client.get("/live/alerts.json").json()
    [row] = feed["alerts"]
    assert row["id"] == alert.id and row["employee"] == "Eve Example" and row["message"] == "Away for 20 minutes"
    assert row["url"] == f"/playback/?camera=gate&at={now.isoformat().replace('+', '%2B')}"
    [review] = feed["review"]
    assert review["id"] == person.review_item_id
    assert (review["camera"], review["camera_slug"], review["labels"]) == ("Gate", "gate", ["person"])
    assert feed["unreviewed"] == 1
    # Employee alerts name people: attendance is for admins only.
    operator_feed = operator_client.get("/live/alerts.json").json()
    assert operator_feed["alerts"] == [] and operator_feed["unreviewed"] == 1


def test_the_favicon_is_served_to_anyone_at_the_root_and_linked(client, db):
    """Browsers ask for /favicon.ico on every page, admin and API pages included."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/ainvr/favicon.svg"' in login
