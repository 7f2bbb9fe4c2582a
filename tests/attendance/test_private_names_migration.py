"""Migration 0004 gives existing face photos and attendance snapshots random names: files
renamed on disk, every row naming them updated, safe to run again, a missing file skipped."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import numpy as np
from django.apps import apps
from django.utils import timezone

from attendance.models import AttendanceEvent, FaceEnrolment, FaceTemplate

migration = importlib.import_module("attendance.migrations.0004_rename_private_media")
RANDOM = re.compile(r"(faces|attendance)/\d{4}/\d{2}/[A-Za-z0-9_-]{22}\.(jpg|png)")


def put(media_root, name: str, data: bytes) -> str:
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return name


def run_migration(capture):
    with capture(execute=True):
        migration.rename_files(apps, None)


def test_old_names_become_random_and_every_row_follows(
    media_root, employee_factory, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    photo = put(media_root, f"faces/2026/12/employee-{grace.pk}.png", b"grace")
    enrolment = FaceEnrolment.objects.create(employee=grace, photo=photo, status="accepted")
    template = FaceTemplate.objects.create(
        employee=grace, photo=photo, embedding=np.zeros(4, np.float32).tobytes(), model_name="m", dimension=4
    )
    at = timezone.now() - timedelta(days=3)
    snapshot = put(media_root, "attendance/2026/12/01/unknown-1.jpg", b"stranger")
    event = AttendanceEvent.objects.create(time=at, kind="unknown", snapshot=snapshot)

    run_migration(django_capture_on_commit_callbacks)

    enrolment.refresh_from_db(), template.refresh_from_db(), event.refresh_from_db()
    assert enrolment.photo.name == template.photo.name != photo
    assert RANDOM.fullmatch(enrolment.photo.name) and enrolment.photo.name.endswith(".png")
    assert RANDOM.fullmatch(event.snapshot.name) and event.snapshot.name.startswith(f"attendance/{at:%Y/%m}/")
    assert (media_root / enrolment.photo.name).read_bytes() == b"grace"
    assert (media_root / event.snapshot.name).read_bytes() == b"stranger"
    assert not (media_root / photo).exists() and not (media_root / snapshot).exists()

    before = (enrolment.photo.name, event.snapshot.name)
    run_migration(django_capture_on_commit_callbacks)  # again: nothing moves
    enrolment.refresh_from_db(), event.refresh_from_db()
    assert (enrolment.photo.name, event.snapshot.name) == before
    assert (media_root / enrolment.photo.name).exists()


def test_a_row_whose_file_is_missing_is_left_as_it_is(media_root, employee_factory, django_capture_on_commit_callbacks):
    grace = employee_factory("Grace Hopper")
    enrolment = FaceEnrolment.objects.create(employee=grace, photo="faces/2026/11/employee-7.jpg")
    event = AttendanceEvent.objects.create(time=timezone.now(), kind="unknown", snapshot="attendance/2026/11/01/x.jpg")
    run_migration(django_capture_on_commit_callbacks)
    enrolment.refresh_from_db(), event.refresh_from_db()
    assert enrolment.photo.name == "faces/2026/11/employee-7.jpg"
    assert event.snapshot.name == "attendance/2026/11/01/x.jpg"


def test_a_rolled_back_migration_keeps_the_old_names_working(media_root, employee_factory):
    from django.db import transaction

    grace = employee_factory("Grace Hopper")
    photo = put(media_root, "faces/2026/12/employee-1.jpg", b"grace")
    enrolment = FaceEnrolment.objects.create(employee=grace, photo=photo)
    try:
        with transaction.atomic():
            migration.rename_files(apps, None)
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    enrolment.refresh_from_db()
    assert enrolment.photo.name == photo and (media_root / photo).read_bytes() == b"grace"


def test_it_is_the_migration_that_runs():
    from django.db.migrations.loader import MigrationLoader

    loaded = MigrationLoader(None).get_migration("attendance", "0004_rename_private_media")
    assert [op.code for op in loaded.operations] == [migration.rename_files]
