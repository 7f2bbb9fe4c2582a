"""Analysis jobs through the API: operators queue them, bad requests name their fields,
and a job is cancelled once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from detection.models import AnalysisJob, JobStatus

URL = "/api/analysis-jobs/"


# Analysis needs recordings in its range (tests/conftest.py: recorded).
pytestmark = pytest.mark.usefixtures("recorded")


def job_request(**changes) -> dict:
    now = timezone.now()
    body = {
        "camera": "gate",
        "start": (now - timedelta(hours=3)).isoformat(),
        "end": (now - timedelta(hours=1)).isoformat(),
    }
    body.update(changes)
    return body


def test_an_operator_queues_a_job_in_their_name(camera, operator_user, persona_api_client):
    body = job_request(classes=["person", "car", "person"], confidence=0.6, sample_fps=1.5, annotate=False)
    response = persona_api_client("operator").post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    shown = response.json()
    assert (shown["status"], shown["requested_by"], shown["camera"]) == ("queued", "bob", "gate")
    assert (shown["classes"], shown["confidence"], shown["sample_fps"], shown["annotate"]) == (
        ["person", "car"],
        0.6,
        1.5,
        False,
    )
    job = AnalysisJob.objects.get(pk=shown["id"])
    assert (job.status, job.requested_by, job.camera) == (JobStatus.QUEUED, operator_user, camera)


def test_a_range_with_no_recordings_is_refused_on_start(camera, persona_api_client, recorded):
    recorded.delete()
    response = persona_api_client("operator").post(URL, job_request(), format="json")
    assert response.status_code == 400
    assert "no recordings" in response.json()["start"][0]
    assert not AnalysisJob.objects.exists()


def test_a_job_left_to_defaults_takes_the_default_classes(camera, persona_api_client):
    response = persona_api_client("operator").post(URL, job_request(), format="json")
    assert response.status_code == 201
    assert response.json()["classes"] == ["person", "bicycle", "car", "motorcycle", "bus", "truck"]


def _bad_requests():
    now = timezone.now()
    yield (
        "end-before-start",
        {"start": (now - timedelta(hours=1)).isoformat(), "end": (now - timedelta(hours=2)).isoformat()},
        "end",
    )
    yield (
        "end-equal-to-start",
        {"start": (now - timedelta(hours=1)).isoformat(), "end": (now - timedelta(hours=1)).isoformat()},
        "end",
    )
    yield "unknown-class", {"classes": ["person", "unicorn"]}, "classes"
    yield "no-classes", {"classes": []}, "classes"
    yield "confidence-2", {"confidence": 2}, "confidence"
    yield "negative-confidence", {"confidence": -0.1}, "confidence"
    yield "unknown-camera", {"camera": "no-such-camera"}, "camera"
    yield (
        "start-in-the-future",
        {"start": (now + timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=2)).isoformat()},
        "start",
    )
    yield (
        "40-day-range",
        {"start": (now - timedelta(days=41)).isoformat(), "end": (now - timedelta(days=1)).isoformat()},
        "end",
    )
    yield "not-a-time", {"start": "yesterday"}, "start"
    yield "sampling-too-fast", {"sample_fps": 60}, "sample_fps"


@pytest.mark.parametrize(("changes", "field"), [pytest.param(c, f, id=name) for name, c, f in _bad_requests()])
def test_a_bad_request_is_refused_naming_the_field(changes, field, camera, persona_api_client):
    response = persona_api_client("operator").post(URL, job_request(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not AnalysisJob.objects.exists()


@pytest.mark.parametrize("missing", ["camera", "start", "end"])
def test_a_request_missing_a_required_field_is_refused(missing, camera, persona_api_client):
    body = job_request()
    del body[missing]
    response = persona_api_client("operator").post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [missing]


def test_a_31_day_range_is_accepted(camera, persona_api_client):
    end = timezone.now() - timedelta(hours=1)
    body = job_request(start=(end - timedelta(days=31)).isoformat(), end=end.isoformat())
    assert persona_api_client("operator").post(URL, body, format="json").status_code == 201


@pytest.fixture
def queued_job(camera, operator_user):
    start = timezone.now() - timedelta(hours=2)
    return AnalysisJob.objects.create(
        camera=camera, start=start, end=start + timedelta(hours=1), requested_by=operator_user
    )


def test_cancelling_a_queued_job_cancels_it(queued_job, persona_api_client):
    response = persona_api_client("operator").post(f"{URL}{queued_job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["finished_at"] is not None
    queued_job.refresh_from_db()
    assert queued_job.status == JobStatus.CANCELLED


def test_cancelling_a_running_job_cancels_it(queued_job, persona_api_client):
    AnalysisJob.objects.filter(pk=queued_job.pk).update(status=JobStatus.RUNNING)
    response = persona_api_client("admin").post(f"{URL}{queued_job.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_cancelling_again_is_a_conflict(queued_job, persona_api_client):
    client = persona_api_client("operator")
    assert client.post(f"{URL}{queued_job.pk}/cancel/").status_code == 200
    response = client.post(f"{URL}{queued_job.pk}/cancel/")
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]
    queued_job.refresh_from_db()
    assert queued_job.status == JobStatus.CANCELLED


@pytest.mark.parametrize("status", [JobStatus.DONE, JobStatus.FAILED])
def test_a_finished_job_cannot_be_cancelled(status, queued_job, persona_api_client):
    AnalysisJob.objects.filter(pk=queued_job.pk).update(status=status)
    response = persona_api_client("operator").post(f"{URL}{queued_job.pk}/cancel/")
    assert response.status_code == 409
    queued_job.refresh_from_db()
    assert queued_job.status == status


def test_cancelling_an_unknown_job_is_not_found(db, persona_api_client):
    assert persona_api_client("operator").post(f"{URL}999999/cancel/").status_code == 404


def test_jobs_filter_by_status(queued_job, camera, persona_api_client):
    start = timezone.now() - timedelta(hours=5)
    AnalysisJob.objects.create(camera=camera, start=start, end=start + timedelta(hours=1), status=JobStatus.DONE)
    response = persona_api_client("operator").get(URL, {"status": "queued"})
    assert [job["id"] for job in response.json()["results"]] == [queued_job.pk]
