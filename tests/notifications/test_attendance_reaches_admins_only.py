"""Attendance names people and is for admins: its notifications reach admins only, on a web
push channel with no users chosen (every user with a role), on one naming an operator, and by
email to an operator's address. Other notifications still reach everyone chosen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from attendance.models import Employee
from notifications import vapid
from notifications.models import Channel, Delivery, DeliveryStatus, Rule
from notifications.services import notify_attendance_event, notify_object_event
from tests.notifications.test_webpush import Browser


@pytest.fixture
def push_channel(db):
    vapid.ensure_key()
    channel = Channel.objects.create(name="Everyone's phones", kind="webpush")  # no users chosen
    rule = Rule.objects.create(
        name="Arrivals and people", labels=["person"], attendance_kinds=["arrived"], cooldown_seconds=0
    )
    rule.channels.add(channel)
    return channel


def _arrival(camera, capture):
    eve = Employee.objects.create(code="E-7", name="Eve Example")
    with capture(execute=True):
        notify_attendance_event("arrived", employee_id=eve.pk, camera_id=camera.pk, at=timezone.now())


def test_an_operators_push_subscription_receives_no_attendance_payload(
    http_recorder, push_channel, camera, operator_user, admin_user, run_jobs, django_capture_on_commit_callbacks
):
    operators_phone, admins_phone = http_recorder(201), http_recorder(201)
    Browser(operator_user, operators_phone.url + "/op")
    admin_browser = Browser(admin_user, admins_phone.url + "/admin")

    _arrival(camera, django_capture_on_commit_callbacks)
    run_jobs()

    assert operators_phone.requests == []
    assert admin_browser.decrypt(admins_phone.requests[0].body)["title"] == "Eve Example arrived"
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_an_operator_chosen_on_the_channel_still_gets_no_attendance(
    http_recorder, push_channel, camera, operator_user, run_jobs, django_capture_on_commit_callbacks
):
    operators_phone = http_recorder(201)
    Browser(operator_user, operators_phone.url + "/op")
    push_channel.push_users.add(operator_user)

    _arrival(camera, django_capture_on_commit_callbacks)
    run_jobs()

    assert operators_phone.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "admins only" in delivery.error


def test_operators_still_get_the_object_notifications(
    http_recorder, push_channel, camera, operator_user, run_jobs, object_event, django_capture_on_commit_callbacks
):
    operators_phone = http_recorder(201)
    Browser(operator_user, operators_phone.url + "/op")
    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(object_event().pk)
    run_jobs()
    assert len(operators_phone.requests) == 1


def test_attendance_email_skips_the_address_of_an_operator(
    smtp, camera, operator_user, admin_user, run_jobs, django_capture_on_commit_callbacks
):
    channel = Channel.objects.create(
        name="Desk", kind="email", email_to=f"{operator_user.email}, {admin_user.email}, front-desk@example.com"
    )
    rule = Rule.objects.create(name="Arrivals", attendance_kinds=["arrived"], cooldown_seconds=0)
    rule.channels.add(channel)

    _arrival(camera, django_capture_on_commit_callbacks)
    run_jobs()

    [message] = smtp.messages
    to = sorted(a.strip() for a in message["To"].split(","))
    assert to == sorted([admin_user.email, "front-desk@example.com"])


def test_the_face_snapshot_kept_for_a_notification_is_for_admins_only(
    push_channel, camera, persona_client, run_jobs, django_capture_on_commit_callbacks
):
    rule = Rule.objects.get()
    rule.attendance_kinds = ["unknown_face"]
    rule.save()
    face = b"\xff\xd8\xff\xe0" + b"face" * 64 + b"\xff\xd9"
    with django_capture_on_commit_callbacks(execute=True):
        notify_attendance_event("unknown_face", employee_id=None, camera_id=camera.pk, at=timezone.now(), snapshot=face)

    name = Delivery.objects.get().snapshot.name
    assert name.startswith("attendance/")  # a private folder, not notifications/
    assert persona_client("operator").get(f"/recordings/media/{name}").status_code == 404
    assert persona_client("operator").get(f"/recordings/private/{name}").status_code == 403
    response = persona_client("admin").get(f"/recordings/private/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == face
