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


def finished_job(camera, *, hours=2, report=None, events=()):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours + 1)
    job = AnalysisJob.objects.create(
        camera=camera, start=start, end=start + timedelta(hours=hours), status=JobStatus.DONE, progress=1.0,
        report=report or {}, annotated_video="analysis/1/annotated.mp4",
    )  # fmt: skip
    for minutes, label in events:
        ObjectEvent.objects.create(
            camera=camera, label=label, confidence=0.8, box=[0, 0, 1, 1], start=start + timedelta(minutes=minutes),
            end=start + timedelta(minutes=minutes, seconds=12), source="analysis", job=job,
            snapshot=f"snapshots/{minutes}.jpg",
        )  # fmt: skip
    return job


def test_a_finished_job_shows_a_summary_counts_chart_events_and_video(operator_client, camera):
    report = {
        "model": "coco-centernet-mbv3-int8 (onnx)", "frames_analysed": 7200, "footage_seconds": 7200.0,
        "duration_seconds": 240.0, "report_file": "analysis/1/report.json",
        "per_hour": {"x": {"person": 2}}, "events": [{"id": 1, "label": "person"}],
    }  # fmt: skip
    job = finished_job(camera, report=report, events=((5, "person"), (10, "person"), (70, "person"), (75, "car")))
    html = operator_client.get(f"/analysis/{job.pk}/").content.decode()
    # A summary for people, not the report's JSON.
    assert camera.name in html and "coco-centernet-mbv3-int8 (onnx)" in html
    assert "7200 at 2.0 fps" in html and "240.0 s" in html and "30.0× real time" in html
    assert '"per_hour"' not in html and "{&#x27;person&#x27;" not in html and "&quot;label&quot;" not in html
    counts = html[html.index("data-counts") : html.index("</table>", html.index("data-counts"))]
    assert counts.index("person") < counts.index("car") and "<td>3</td>" in counts and "<td>1</td>" in counts
    assert 'href="/recordings/media/analysis/1/report.json" download' in html
    assert f'href="/api/analysis-jobs/{job.pk}/"' in html
    assert 'src="/recordings/media/analysis/1/annotated.mp4"' in html
    assert 'src="/recordings/media/snapshots/5.jpg"' in html
    assert html.count("<tr data-event>") == 4 and html.count("<td>12 s</td>") == 4
    assert html.count(f"/playback/?camera={camera.slug}&amp;at=") == 4
    assert "chart.umd.min.js" in html and 'id="chart-data"' in html


def test_the_chart_counts_objects_per_bin_narrow_enough_to_read(operator_client, camera):
    # Two hours: 120 one-minute bins; the events fall in minutes 5, 5, 70.
    job = finished_job(camera, hours=2, events=((5, "person"), (5, "car"), (70, "person")))
    chart = operator_client.get(f"/analysis/{job.pk}/").context["chart"]
    assert (chart["bin_seconds"], chart["bin_name"], len(chart["labels"])) == (60, "minute", 120)
    data = {d["label"]: d["data"] for d in chart["datasets"]}
    assert data["person"][5] == 1 and data["person"][70] == 1 and sum(data["person"]) == 2
    assert data["car"][5] == 1 and sum(data["car"]) == 1
    # Three days: hourly bars (72), never thousands.
    job = finished_job(camera, hours=72, events=((61, "person"),))
    chart = operator_client.get(f"/analysis/{job.pk}/").context["chart"]
    assert (chart["bin_seconds"], len(chart["labels"])) == (3600, 72)
    assert chart["datasets"][0]["data"][1] == 1


def test_the_events_list_is_paginated(operator_client, camera):
    job = finished_job(camera, hours=3, events=[(m, "person") for m in range(100)])
    first = operator_client.get(f"/analysis/{job.pk}/").content.decode()
    assert first.count("<tr data-event>") == 48 and "Page 1 of 3 (100 objects)" in first
    last = operator_client.get(f"/analysis/{job.pk}/?page=3").content.decode()
    assert last.count("<tr data-event>") == 4
    assert operator_client.get(f"/analysis/{job.pk}/?page=nope").status_code == 200


def test_a_job_with_no_objects_says_so(operator_client, camera):
    job = finished_job(camera, report={"frames_analysed": 10})
    html = operator_client.get(f"/analysis/{job.pk}/").content.decode()
    assert "No objects found." in html and "chart.umd.min.js" not in html


def test_the_form_preselects_the_only_camera(operator_client, camera):
    html = operator_client.get("/analysis/").content.decode()
    select = html[html.index('<select name="camera"') : html.index("</select>", html.index('<select name="camera"'))]
    assert "---------" not in select and f'value="{camera.slug}" selected' in select
