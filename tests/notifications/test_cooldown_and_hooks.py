"""The hooks the pipeline calls: deliveries only after commit, at most one per cooldown per
rule and camera (and employee), never an exception into the caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from notifications.models import Channel, Delivery, Rule, RuleCooldown
from notifications.services import notify_attendance_event, notify_object_event


@pytest.fixture
def two_channel_rule(db, mail_channel):
    hook = Channel.objects.create(name="Hook", kind="webhook", webhook_url="https://hooks.example.com/x")
    rule = Rule.objects.create(name="People", labels=["person"], attendance_kinds=["arrived"], cooldown_seconds=300)
    rule.channels.add(mail_channel, hook)
    return rule


def _notify(event, capture):
    with capture(execute=True):
        notify_object_event(event.pk)


def test_one_delivery_per_rule_and_channel(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    _notify(object_event(), django_capture_on_commit_callbacks)
    assert sorted(Delivery.objects.values_list("channel__name", flat=True)) == ["Hook", "Security desk"]
    assert notifications_queue.count == 2
    assert all(d.rq_job_id for d in Delivery.objects.all())


def test_nothing_happens_before_the_commit_and_nothing_after_a_rollback(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify_object_event(object_event().pk)
    assert Delivery.objects.count() == 0 and len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify_object_event(object_event().pk)
                raise RuntimeError("the detection was rolled back")
        except RuntimeError:
            pass
    assert Delivery.objects.count() == 0
    assert notifications_queue.count == 0


def test_the_cooldown_holds_per_rule_and_camera(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    yard = Camera.objects.create(name="Yard", slug="yard", stream_url="rtsp://192.0.2.40/main")
    for _ in range(3):
        _notify(object_event(), django_capture_on_commit_callbacks)
    _notify(object_event(camera=yard), django_capture_on_commit_callbacks)  # another camera: its own cooldown
    assert Delivery.objects.filter(camera__slug="gate").count() == 2  # one event, two channels
    assert Delivery.objects.filter(camera=yard).count() == 2

    # Once the cooldown has passed, the next event notifies again.
    RuleCooldown.objects.update(last_sent_at=timezone.now() - timedelta(seconds=301))
    _notify(object_event(), django_capture_on_commit_callbacks)
    assert Delivery.objects.filter(camera__slug="gate").count() == 4


def test_a_rule_without_cooldown_notifies_every_time(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    Rule.objects.update(cooldown_seconds=0)
    for _ in range(3):
        _notify(object_event(), django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 6


def test_two_employees_arriving_together_are_both_notified(
    two_channel_rule, camera, notifications_queue, django_capture_on_commit_callbacks
):
    from attendance.models import Employee

    eve = Employee.objects.create(code="E1", name="Eve")
    dan = Employee.objects.create(code="E2", name="Dan")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for employee in (eve, dan, eve):
            notify_attendance_event("arrived", employee_id=employee.pk, camera_id=camera.pk, at=now)
    names = sorted(Delivery.objects.filter(channel__kind="email").values_list("payload__employee__name", flat=True))
    assert names == ["Dan", "Eve"]


def test_an_absence_and_its_resolution_are_both_notified_within_the_cooldown(
    two_channel_rule, camera, notifications_queue, django_capture_on_commit_callbacks
):
    from attendance.models import Employee

    Rule.objects.update(attendance_kinds=["absence", "resolved"])
    eve = Employee.objects.create(code="E1", name="Eve")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for kind in ("absence", "resolved", "absence"):
            notify_attendance_event(kind, employee_id=eve.pk, camera_id=camera.pk, at=now)
    events = sorted(Delivery.objects.filter(channel__kind="email").values_list("payload__event", flat=True))
    assert events == ["absence", "resolved"]


def test_outside_its_window_a_rule_stays_silent(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    Rule.objects.update(active_from=time(19, 0), active_until=time(7, 0))
    noon = datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    _notify(object_event(at=noon), django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 0
    _notify(object_event(at=noon.replace(hour=22)), django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 2


def test_analysis_of_old_footage_and_disabled_channels_notify_nobody(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks
):
    from detection.models import Source

    _notify(object_event(source=Source.ANALYSIS), django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 0
    Channel.objects.filter(kind="webhook").update(enabled=False)
    _notify(object_event(), django_capture_on_commit_callbacks)
    assert list(Delivery.objects.values_list("channel__kind", flat=True)) == ["email"]


def test_the_hooks_never_raise_into_the_caller(
    two_channel_rule, object_event, notifications_queue, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(999_999)  # no such event
        notify_attendance_event("teleported", employee_id=None, camera_id=None, at=timezone.now())
        notify_attendance_event("arrived", employee_id=None, camera_id=None, at="not a datetime")
    assert Delivery.objects.count() == 0
    assert "unknown attendance event kind 'teleported'" in caplog.text
    assert "failed; nothing was sent for it" in caplog.text
