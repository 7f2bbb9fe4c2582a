"""The AI analysis pages create, follow and cancel jobs through detection.services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from detection.models import AnalysisJob, JobStatus, ObjectEvent

pytestmark = pytest.mark.usefixtures("recorded")


def form_data(**overrides):
    now = timezone.localtime().replace(microsecond=0, tzinfo=None)
    data = {
        "camera": "gate",
        "start": (now - timedelta(hours=2)).isoformat(),
        "end": (now - timedelta(hours=1)).isoformat(),
        "classes": ["person", "car"],
        "confidence": "0.6",
        "sample_fps": "1.5",
        "annotate": "on",
    }
    data.update(overrides)
    return data


def test_the_form_creates_a_queued_job_and_shows_it(operator_client, operator_user, camera):
    response = operator_client.post("/analysis/", form_data())
    job = AnalysisJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/analysis/{job.pk}/"
    assert (job.camera, job.classes, job.confidence, job.sample_fps, job.annotate) == (
        camera, ["person", "car"], 0.6, 1.5, True,
    )  # fmt: skip
    assert job.requested_by == operator_user and job.status == JobStatus.QUEUED
    assert (job.end - job.start) == timedelta(hours=1)
    page = operator_client.get(response["Location"]).content.decode()
    assert "Queued" in page and 'data-active="true"' in page
    assert f"#{job.pk}" in operator_client.get("/analysis/").content.decode()


def test_bad_input_is_400_with_the_fields_message(operator_client, camera):
    now = timezone.localtime().replace(microsecond=0, tzinfo=None)
    cases = [
        (form_data(end=(now - timedelta(hours=3)).isoformat()), "The end must be after the start."),
        (form_data(start=(now + timedelta(hours=1)).isoformat(), end=(now + timedelta(hours=2)).isoformat()),
         "The start is in the future"),
        (form_data(start=(now - timedelta(days=40)).isoformat()), "at most 31 days"),
        (form_data(classes=["unicorn"]), "Select a valid choice"),
        (form_data(confidence="2"), "less than or equal to 1"),
        (form_data(camera="nope"), "Select a valid choice"),
    ]  # fmt: skip
    for data, message in cases:
        response = operator_client.post("/analysis/", data)
        assert response.status_code == 400, message
        assert message in response.content.decode(), message
    assert not AnalysisJob.objects.exists()


def test_the_status_endpoint_feeds_the_progress_bar(operator_client, camera):
    now = timezone.now()
    job = AnalysisJob.objects.create(camera=camera, start=now - timedelta(hours=1), end=now)
    AnalysisJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=0.425)
    status = operator_client.get(f"/analysis/{job.pk}/status/").json()
    assert (status["status"], status["percent"], status["active"]) == ("running", 42, True)


def test_cancel_stops_an_active_job_and_says_when_it_had_ended(operator_client, camera):
    now = timezone.now()
    job = AnalysisJob.objects.create(camera=camera, start=now - timedelta(hours=1), end=now)
    operator_client.post(f"/analysis/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    page = operator_client.post(f"/analysis/{job.pk}/cancel/", follow=True).content.decode()
    assert "already ended" in page


def test_a_finished_job_shows_its_report_chart_events_and_video(operator_client, camera):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    job = AnalysisJob.objects.create(
        camera=camera, start=start, end=start + timedelta(hours=2), status=JobStatus.DONE, progress=1.0,
        report={"frames_analysed": 7200, "by_class": {"person": 3, "car": 1}},
        annotated_video="analysis/1/annotated.mp4",
    )  # fmt: skip
    for minutes, label in ((5, "person"), (10, "person"), (70, "person"), (75, "car")):
        ObjectEvent.objects.create(
            camera=camera, label=label, confidence=0.8, box=[0, 0, 1, 1], start=start + timedelta(minutes=minutes),
            source="analysis", job=job, snapshot=f"snapshots/{minutes}.jpg",
        )  # fmt: skip
    html = operator_client.get(f"/analysis/{job.pk}/").content.decode()
    assert "Frames analysed" in html and "7200" in html
    assert html.count("<rect ") == 3  # hour 1: person; hour 2: person + car
    assert ": 2 person</title>" in html
    assert 'src="/recordings/media/analysis/1/annotated.mp4"' in html
    assert 'src="/recordings/media/snapshots/5.jpg"' in html
    assert html.count("<figure>") == 4
