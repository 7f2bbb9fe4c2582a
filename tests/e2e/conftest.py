"""Fixtures for the API and admin tests: one saved object of every model, RQ objects for
Django-RQ's pages, a clean cache so the token endpoint's throttle starts at zero, and a
cheap password hasher."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache

PARIS = ZoneInfo("Europe/Paris")
# A moment well in the past, so analysis jobs and filters never meet "now".
T0 = datetime(2025, 6, 10, 10, 0, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def empty_cache():
    """The token endpoint's throttle counts in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def spare_camera(db):
    """A camera with nothing attached (no recordings), which the API may change and delete."""
    from cameras.models import Camera
    from cameras.services import save_camera

    return save_camera(Camera(name="Spare", slug="spare", stream_url="rtsp://192.0.2.30:554/main"))


@pytest.fixture
def world(camera, spare_camera, admin_user, operator_user):
    """One saved object of every model the admin shows and the API serves.

    Returns a namespace: `objects` maps "app_label.model_name" to an object; `ids` maps
    names used in URL templates ("{camera}", "{accounts_user}", ...) to URL-ready values."""
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from attendance.models import AlertLog, AttendanceEvent, DailyAttendance, Employee, Presence
    from cameras.models import DashboardLayout, DashboardSlot, Zone
    from detection.models import AnalysisJob, ObjectEvent
    from notifications.models import Channel, Delivery, HealthCondition, PushSubscription, Rule
    from recordings.models import Segment, StorageSettings

    group = Group.objects.create(name="Night shift")
    Token.objects.get_or_create(user=operator_user)
    layout = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2, is_default=True)
    DashboardSlot.objects.create(layout=layout, position=0, camera=camera)
    zone = Zone.objects.create(camera=camera, name="Yard", points=[[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]])
    segment = Segment.objects.create(
        camera=camera,
        start=T0,
        end=T0 + timedelta(seconds=10),
        duration=10.0,
        path="gate/2025/06/10/10-00-00.mp4",
        size_bytes=1_000_000,
        codec="h264",
        width=1920,
        height=1080,
    )
    storage = StorageSettings.load()
    detection = ObjectEvent.objects.create(
        camera=camera, label="person", confidence=0.9, box=[0.1, 0.1, 0.5, 0.9], start=T0, end=T0 + timedelta(seconds=5)
    )
    job = AnalysisJob.objects.create(camera=camera, start=T0, end=T0 + timedelta(hours=1), requested_by=operator_user)
    employee = Employee.objects.create(code="E1", name="Eve Example", department="Ops")
    presence = Presence.objects.create(employee=employee, state="available", since=T0, last_seen=T0, last_camera=camera)
    day = DailyAttendance.objects.create(
        employee=employee, date=date(2025, 6, 10), first_in=T0, last_out=T0 + timedelta(hours=8)
    )
    event = AttendanceEvent.objects.create(employee=employee, camera=camera, time=T0, kind="arrived", similarity=0.8)
    alert = AlertLog.objects.create(employee=employee, camera=camera, started=T0, message="Away for 20 minutes")
    channel = Channel.objects.create(name="Ops mail", kind="email", email_to="ops@example.com")
    rule = Rule.objects.create(name="People at the gate", labels=["person"])
    rule.channels.add(channel)
    rule.cameras.add(camera)
    delivery = Delivery.objects.create(rule=rule, channel=channel, camera=camera, payload={"label": "person"})
    push = PushSubscription.objects.create(
        user=operator_user, endpoint="https://push.example.com/bob", p256dh="BNc", auth="k9"
    )
    trouble = HealthCondition.objects.create(
        subject=f"camera:{camera.pk}", kind="camera_offline", camera=camera, title=camera.name, since=T0
    )

    objects = {
        "auth.group": group,
        "accounts.user": operator_user,
        "cameras.camera": camera,
        "cameras.dashboardlayout": layout,
        "recordings.segment": segment,
        "recordings.storagesettings": storage,
        "detection.objectevent": detection,
        "detection.analysisjob": job,
        "attendance.employee": employee,
        "attendance.presence": presence,
        "attendance.dailyattendance": day,
        "attendance.attendanceevent": event,
        "attendance.alertlog": alert,
        "notifications.channel": channel,
        "notifications.rule": rule,
        "notifications.delivery": delivery,
        "notifications.pushsubscription": push,
        "notifications.healthcondition": trouble,
    }
    ids = {key.replace(".", "_"): quote(obj.pk) for key, obj in objects.items()}
    # Tokens are found in the admin by their user's id; Django-RQ's "model" has no rows at all.
    ids["authtoken_tokenproxy"] = quote(operator_user.pk)
    ids["django_rq_dashboard"] = "1"
    ids.update(
        camera=camera.slug,
        spare=spare_camera.slug,
        camera_ct=ContentType.objects.get_for_model(camera).pk,
        camera_pk=camera.pk,
        layout=layout.pk,
        zone=zone.pk,
        segment=segment.pk,
        detection=detection.pk,
        job=job.pk,
        employee=employee.pk,
    )
    return SimpleNamespace(objects=objects, ids=ids)


def _rq_queue():
    import django_rq

    return django_rq.get_queue("default")


@pytest.fixture
def rq_job():
    """A job stored in Redis (not enqueued, so no worker runs it) for Django-RQ's job pages;
    deleted afterwards. Its id is unique, so parallel test runs cannot collide."""
    from rq.job import Job

    queue = _rq_queue()
    job = Job.create(
        "builtins.print", id=f"ainvr-test-{uuid.uuid4().hex}", connection=queue.connection, origin=queue.name
    )
    job.save()
    yield job.id
    job.delete()


@pytest.fixture
def rq_worker_key():
    """A worker registered in Redis (never started) for Django-RQ's worker page; removed afterwards."""
    from rq.worker import Worker

    queue = _rq_queue()
    worker = Worker([queue], connection=queue.connection, name=f"ainvr-test-{uuid.uuid4().hex}")
    worker.register_birth()
    yield worker.key
    worker.register_death()
    queue.connection.delete(worker.key)
