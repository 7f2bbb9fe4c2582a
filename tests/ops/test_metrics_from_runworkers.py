"""/metrics shows the pipeline's own numbers after a short runworkers run against the RTSP
test server (capture processes write multiprocess files; the web process adds them up)."""

from __future__ import annotations

import re

import pytest

from cameras.models import Camera
from cameras.services import save_camera
from recordings.models import Segment
from tests.pipeline.test_runworkers_processes import start_runworkers, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_it_shows_segments_and_frames_after_a_short_run(admin_client, make_rtsp_server, tmp_path):
    server = make_rtsp_server(width=640, height=360, fps=15, gop=15)
    save_camera(Camera(name="Street", slug="street-metrics", stream_url=server.url(), segment_seconds=1))
    process = start_runworkers(tmp_path / "data", tmp_path / "runworkers.log")
    try:
        wait_for(lambda: Segment.objects.filter(camera__slug="street-metrics").count() >= 2, 60, "two segments")
    finally:
        assert stop(process) == 0

    text = admin_client.get("/metrics").content.decode()

    assert value(text, 'ainvr_segments_written_total{camera="street-metrics"}') >= 2
    assert value(text, 'ainvr_segment_bytes_total{camera="street-metrics"}') > 0
    assert value(text, 'ainvr_recording_lag_seconds_count{camera="street-metrics"}') >= 2
