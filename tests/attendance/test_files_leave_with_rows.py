"""Attendance snapshots and face photos leave the disk with their rows: purges of expired
events, reset_logs, an employee deleted. A face photo shared by an enrolment and its
template stays while either row names it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone

from attendance.models import AttendanceEvent, FaceEnrolment, FaceTemplate
from attendance.presence import purge_events, record_sighting
from attendance.services import reset_logs

JPEG = b"\xff\xd8\xff\xe0snapshot\xff\xd9"


def sighting(at):
    return record_sighting(employee_id=None, camera_id=None, at=at, similarity=None, snapshot=JPEG)


def on_disk(media_root, names) -> list[str]:
    return [name for name in names if (media_root / name).exists()]


def test_purging_expired_events_deletes_their_jpegs(media_root, db, django_capture_on_commit_callbacks):
    now = timezone.now()
    expired = [sighting(now - timedelta(days=100, minutes=i)).snapshot.name for i in range(7)]
    kept = [sighting(now - timedelta(days=1)).snapshot.name]
    assert on_disk(media_root, expired + kept) == expired + kept
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_events(now=now, keep_days=90, batch_size=3) == 7
    assert on_disk(media_root, expired) == []
    assert on_disk(media_root, kept) == kept
    assert AttendanceEvent.objects.count() == 1


def test_the_recognition_stages_daily_purge_deletes_them_too(media_root, db, django_capture_on_commit_callbacks):
    from attendance.recognition.stage import RecognitionConfig, RecognitionStage

    now = timezone.now()
    names = [sighting(now - timedelta(days=40)).snapshot.name for _ in range(3)]
    stage = RecognitionStage(backend=None, matcher=None, config=RecognitionConfig(retention_days=30), clock=lambda: now)
    with django_capture_on_commit_callbacks(execute=True):
        assert stage.maintain(now) == 3
    assert on_disk(media_root, names) == []


def test_reset_logs_deletes_the_jpegs_of_the_events_it_deletes(media_root, db, django_capture_on_commit_callbacks):
    names = [sighting(timezone.now()).snapshot.name for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        reset_logs(table="events")
    assert on_disk(media_root, names) == []


def test_a_delete_that_rolls_back_keeps_the_file(media_root, db, django_capture_on_commit_callbacks):
    from django.db import transaction

    event = sighting(timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                event.delete()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert on_disk(media_root, [event.snapshot.name]) == [event.snapshot.name]


def enrolled_photo(employee):
    enrolment = FaceEnrolment(employee=employee, status="accepted")
    enrolment.photo.save("face.jpg", ContentFile(JPEG), save=True)
    template = FaceTemplate.objects.create(
        employee=employee, photo=enrolment.photo.name, embedding=np.zeros(4, np.float32).tobytes(),
        model_name="m", dimension=4,
    )  # fmt: skip
    enrolment.template = template
    enrolment.save(update_fields=["template"])
    return enrolment, template


def test_a_deleted_employees_face_photos_leave_the_disk(
    media_root, employee_factory, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    names = [enrolled_photo(grace)[0].photo.name for _ in range(2)]
    assert on_disk(media_root, names) == names
    with django_capture_on_commit_callbacks(execute=True):
        grace.delete()
    assert on_disk(media_root, names) == []


def test_a_photo_stays_while_its_enrolment_or_template_names_it(
    media_root, employee_factory, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    enrolment, template = enrolled_photo(grace)
    name = enrolment.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        template.delete()
    assert on_disk(media_root, [name]) == [name]
    with django_capture_on_commit_callbacks(execute=True):
        enrolment.delete()
    assert on_disk(media_root, [name]) == []
