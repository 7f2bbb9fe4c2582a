"""A camera away for a while, against the real RTSP test server: recording resumes within
5 s of its return (issue 15, finding 11: it took up to 37 s), and the camera is not opened
again and again while it is away.

Real clocks (the server runs in real time); every wait is a loop with a deadline."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from cameras.services import save_camera
from pipeline.capture import CaptureWorker, StatusReporter
from pipeline.report_writer import free_disk, write_status
from pipeline.supervisor import camera_spec
from recordings.models import Segment
from recordings.services import record_segment

OUTAGE_S = 20  # long enough for the old backoff to have grown past 8 s between tries


@pytest.fixture
def rtsp_camera(db, rtsp_server):
    from cameras.models import Camera

    return save_camera(Camera(name="Street", slug="street", stream_url=rtsp_server.url(), segment_seconds=2))


def step_until(worker, condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.step()
        if condition():
            return
    raise AssertionError(f"not within {timeout} s: {what}")


def test_recording_resumes_within_5_s_of_a_camera_back_from_an_outage(rtsp_camera, rtsp_server, tmp_path):
    worker = CaptureWorker(
        camera_spec(rtsp_camera),
        recordings_root=tmp_path,
        status=StatusReporter(rtsp_camera.pk, refresh_s=1.0, write=write_status),
        on_disk_full=free_disk,
        on_segment=lambda camera_id, closed: record_segment(camera_id=camera_id, closed=closed),
        open_timeout=3.0,
        read_timeout=2.0,
    )  # the production reconnect policy: no backoff or probe passed in
    step_until(worker, lambda: Segment.objects.exists(), 15, "a first segment")

    rtsp_server.kill()
    killed_at = time.monotonic()
    step_until(worker, lambda: worker._container is None, 8, "the drop noticed")
    opens_before = worker.open_attempts
    step_until(worker, lambda: time.monotonic() - killed_at >= OUTAGE_S, OUTAGE_S + 5, "the outage")
    opens_during_outage = worker.open_attempts - opens_before
    last_before = Segment.objects.order_by("-end").first()

    rtsp_server.restart()
    back_at = timezone.now()
    step_until(worker, lambda: Segment.objects.filter(start__gt=last_before.end).exists(), 15, "a new segment")
    worker.stop()

    first_after = Segment.objects.filter(start__gt=last_before.end).order_by("start").first()
    assert (first_after.start - back_at).total_seconds() <= 5.0
    assert opens_during_outage <= 3  # the old backoff opened 5 times in 20 s; the probe knocks instead
