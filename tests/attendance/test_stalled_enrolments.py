"""An enrolment whose job died (its process killed, e.g. for memory) does not stay pending
for ever: it is marked failed with a reason the face photos page shows, and can be retried."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from attendance.enrolment import STALLED, STALLED_AFTER, StalledEnrolmentsTask, claim_enrolment
from attendance.models import EnrolmentStatus, FaceEnrolment
from tests.attendance.faces import jpeg, photo


@pytest.fixture
def enrolment(employee_factory):
    grace = employee_factory("Grace Hopper")
    enrolment = FaceEnrolment(employee=grace)
    enrolment.photo.save("face.jpg", ContentFile(jpeg(photo("hopper"))), save=True)
    return enrolment


def faces_url(employee):
    return f"/admin/attendance/employee/{employee.pk}/faces/"


def test_a_job_killed_mid_enrolment_leaves_it_failed_with_a_reason(enrolment, rq_default_queue, monkeypatch):
    """A real RQ worker forks a work horse per job, as in production; the horse is killed
    with SIGKILL (what the kernel's OOM killer sends) while it runs the face model."""
    import django_rq
    from rq import Worker

    def killed_for_memory(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr("attendance.enrolment.embed_single_face", killed_for_memory)
    monkeypatch.setattr("attendance.recognition.backend.face_backend_from_settings", lambda: object())
    queue = django_rq.get_queue("default", commit_mode="auto")  # the test's transaction never commits
    assert queue.enqueue("attendance.jobs.enrol_face", enrolment.pk, job_timeout=60) is not None
    Worker([queue], connection=queue.connection).work(burst=True)

    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PENDING and enrolment.started_at is not None  # the job died
    task = StalledEnrolmentsTask(now=lambda: timezone.now() + STALLED_AFTER + timedelta(seconds=1))
    assert task.step()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.FAILED and enrolment.reason == STALLED


def test_a_job_still_within_its_time_is_left_alone(enrolment):
    claim_enrolment(enrolment.pk)
    StalledEnrolmentsTask(now=lambda: timezone.now() + STALLED_AFTER - timedelta(seconds=30)).step()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PENDING


def test_a_photo_still_waiting_for_a_worker_is_not_failed(enrolment):
    StalledEnrolmentsTask(now=lambda: timezone.now() + timedelta(days=1)).step()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PENDING


def test_the_page_shows_the_reason_and_retry_queues_it_again(
    admin_client, enrolment, rq_default_queue, django_capture_on_commit_callbacks
):
    claim_enrolment(enrolment.pk)
    FaceEnrolment.objects.filter(pk=enrolment.pk).update(started_at=timezone.now() - STALLED_AFTER * 2)
    page = admin_client.get(faces_url(enrolment.employee)).content.decode()  # the page checks too
    assert STALLED in page and f'name="retry" value="{enrolment.pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(faces_url(enrolment.employee), {"retry": str(enrolment.pk)})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.reason, enrolment.started_at) == (EnrolmentStatus.PENDING, "", None)
    assert len(rq_default_queue) == 1


def test_only_a_failed_photo_can_be_retried(admin_client, enrolment, rq_default_queue):
    response = admin_client.post(faces_url(enrolment.employee), {"retry": str(enrolment.pk)}, follow=True)
    assert "Only a failed photo can be retried." in response.content.decode()
    assert len(rq_default_queue) == 0
    assert admin_client.post(faces_url(enrolment.employee), {"retry": "x"}).status_code == 404


def test_operators_cannot_retry(operator_client, enrolment):
    assert operator_client.post(faces_url(enrolment.employee), {"retry": str(enrolment.pk)}).status_code == 403


def test_runworkers_runs_the_check():
    from attendance.enrolment import StalledEnrolmentsTask
    from pipeline.runner import periodic_tasks

    assert any(isinstance(task, StalledEnrolmentsTask) for task in periodic_tasks())
