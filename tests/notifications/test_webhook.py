"""Webhooks reach a real HTTP server on loopback, signed; server errors are retried, a
refusal (4xx) is not."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from notifications.models import Channel, Delivery, DeliveryStatus, Rule
from notifications.services import notify_attendance_event, notify_object_event

SECRET = "whsec-4f7Kq9"


@pytest.fixture
def hook_rule(db, camera):
    def make(url: str) -> Channel:
        channel = Channel.objects.create(name="Hook", kind="webhook", webhook_url=url, webhook_secret=SECRET)
        rule = Rule.objects.create(name="Everything", labels=["person", "car"], attendance_kinds=["absence"])
        rule.channels.add(channel)
        return channel

    return make


def verify(received, secret: str, *, tolerance: int = 300) -> dict:
    """What a receiver does: check the timestamp is fresh and the HMAC matches, then parse."""
    timestamp = received.headers["X-AINVR-Timestamp"]
    assert abs(time.time() - int(timestamp)) < tolerance
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["X-AINVR-Signature"], f"sha256={expected}")
    return json.loads(received.body)


def test_the_webhook_receives_a_signed_json_payload(
    http_recorder, hook_rule, run_jobs, object_event, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_URL = "https://nvr.example.com"
    server = http_recorder(204)
    hook_rule(server.url + "/hooks/ainvr")
    event = object_event(label="car", confidence=0.75)
    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(event.pk)
    run_jobs()

    [received] = server.requests
    assert received.path == "/hooks/ainvr"
    assert received.headers["Content-Type"] == "application/json"
    body = verify(received, SECRET)
    delivery = Delivery.objects.get()
    assert body["id"] == delivery.pk and received.headers["X-AINVR-Delivery"] == str(delivery.pk)
    assert body["event"] == received.headers["X-AINVR-Event"] == "object"
    assert body["title"] == "Car at Gate"
    assert body["camera"] == {"id": event.camera_id, "slug": "gate", "name": "Gate"}
    assert body["object"] == {"event_id": event.pk, "label": "car", "confidence": 0.75, "box": [0.1, 0.2, 0.5, 0.9]}
    assert body["rule"]["name"] == "Everything"
    assert body["url"].startswith("https://nvr.example.com/playback/?camera=gate&at=")
    assert body["test"] is False
    assert delivery.status == DeliveryStatus.SENT


def test_a_tampered_body_fails_verification(http_recorder, hook_rule, run_jobs, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from attendance.models import AlertLog, Employee

    server = http_recorder(200)
    hook_rule(server.url)
    employee = Employee.objects.create(code="E1", name="Eve Example")
    alert = AlertLog.objects.create(employee=employee, started=timezone.now(), message="Away for 20 minutes")
    with django_capture_on_commit_callbacks(execute=True):
        notify_attendance_event("absence", employee_id=employee.pk, camera_id=None, at=alert.started, alert_id=alert.pk)
    run_jobs()

    [received] = server.requests
    body = verify(received, SECRET)
    assert body["employee"] == {"id": employee.pk, "code": "E1", "name": "Eve Example"}
    assert body["alert"] == {"id": alert.pk, "message": "Away for 20 minutes"}
    received.body = received.body.replace(b"Eve", b"Eva")
    with pytest.raises(AssertionError):
        verify(received, SECRET)
    with pytest.raises(AssertionError):
        verify(server.requests[0], "another-secret")


def test_server_errors_are_retried_until_accepted(
    http_recorder, hook_rule, run_jobs, object_event, django_capture_on_commit_callbacks
):
    server = http_recorder(503, 500, 200)
    hook_rule(server.url)
    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(object_event().pk)
    run_jobs()

    assert len(server.requests) == 3
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    errors = list(delivery.attempt_log.exclude(ok=True).values_list("error", flat=True))
    assert [e.split(" from")[0] for e in errors] == ["HTTP 503", "HTTP 500"]
    # Every attempt is signed afresh.
    for received in server.requests:
        verify(received, SECRET)


def test_a_refusal_is_not_retried(http_recorder, hook_rule, run_jobs, object_event, django_capture_on_commit_callbacks):
    server = http_recorder(400)
    hook_rule(server.url)
    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(object_event().pk)
    run_jobs()

    assert len(server.requests) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.error.startswith("HTTP 400")


def test_a_webhook_that_never_answers_times_out(
    hook_rule, run_jobs, object_event, django_capture_on_commit_callbacks, settings
):
    import socket

    settings.NOTIFICATIONS_TIMEOUT = 1
    settings.NOTIFICATIONS_RETRY_SECONDS = [0]
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hook_rule(f"http://127.0.0.1:{silent.getsockname()[1]}/")
        with django_capture_on_commit_callbacks(execute=True):
            notify_object_event(object_event().pk)
        run_jobs()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert "Timeout" in delivery.error  # the worker gave up waiting instead of hanging
