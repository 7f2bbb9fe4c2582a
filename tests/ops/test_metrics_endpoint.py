"""/metrics: never public; sums what every process recorded (multiprocess files)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from core import metrics
from tests.installs import REPO

TOKEN = "metrics-token-" + "Zq7Lw2Xc9Vb4Nm1Ks8Jd3Hf6Gp0"

RECORD = """
import sys
from core import metrics
assert not any(name == "django" or name.startswith("django.") for name in sys.modules), "imported Django"
cam = sys.argv[1]
metrics.frames_in(cam, 50)
metrics.frames_out(cam, 10)
metrics.frames_dropped(cam, "detect", 3)
metrics.camera_reconnected(cam)
metrics.segment_closed(cam, 123456, 0.4)
metrics.segment_closed(cam, 1000, 1.5)
metrics.inference(23.0, 4)
metrics.queue_depth("inference-" + cam, 7)
metrics.detection(cam, "person", 2)
metrics.event(cam, "person")
metrics.attendance_sighting(cam)
metrics.delivery("email", True)
metrics.delivery("email", False)
metrics.retention_deleted(cam, 2, 5000)
metrics.job_finished("analysis", True, 12.0)
import os; print(os.getpid())
"""


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_it_refuses_anonymous(anon_client, token):
    response = anon_client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_operator(operator_client, token):
    assert operator_client.get("/metrics").status_code == 403


def test_it_refuses_a_wrong_token(anon_client, token):
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "x" * 40).status_code == 401


def test_no_token_is_accepted_when_none_is_set(anon_client, settings):
    settings.METRICS_TOKEN = None
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_it_accepts_the_token(anon_client, token, db):
    response = anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    free = shutil.disk_usage(settings.RECORDINGS_DIR).free
    line = next(
        line
        for line in response.content.decode().splitlines()
        if line.startswith(f'ainvr_disk_free_bytes{{disk="recordings",path="{settings.RECORDINGS_DIR}"}}')
    )
    assert abs(float(line.split()[-1]) - free) < 1e9  # computed at scrape time


def test_it_shows_values_recorded_by_another_process(admin_client, camera):
    slug = "cam-" + uuid.uuid4().hex[:8]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(settings.PROMETHEUS_MULTIPROC_DIR)}
    done = subprocess.run(
        [sys.executable, "-c", RECORD, slug], cwd=REPO, env=env, check=True, timeout=60, capture_output=True, text=True
    )

    text = admin_client.get("/metrics").content.decode()

    expected = [
        f'ainvr_frames_in_total{{camera="{slug}"}} 50.0',
        f'ainvr_frames_out_total{{camera="{slug}"}} 10.0',
        f'ainvr_frames_dropped_total{{camera="{slug}",stage="detect"}} 3.0',
        f'ainvr_camera_reconnects_total{{camera="{slug}"}} 1.0',
        f'ainvr_segments_written_total{{camera="{slug}"}} 2.0',
        f'ainvr_segment_bytes_total{{camera="{slug}"}} 124456.0',
        f'ainvr_recording_lag_seconds_count{{camera="{slug}"}} 2.0',
        f'ainvr_recording_lag_seconds_bucket{{camera="{slug}",le="0.5"}} 1.0',
        f'ainvr_detections_total{{camera="{slug}",label="person"}} 2.0',
        f'ainvr_events_total{{camera="{slug}",label="person"}} 1.0',
        f'ainvr_attendance_sightings_total{{camera="{slug}"}} 1.0',
        f'ainvr_retention_deleted_segments_total{{camera="{slug}"}} 2.0',
        f'ainvr_retention_deleted_bytes_total{{camera="{slug}"}} 5000.0',
        'ainvr_notification_deliveries_total{channel="email",result="failed"}',
        "ainvr_inference_seconds_count",
        "ainvr_inference_batch_frames_bucket",
        'ainvr_job_seconds_count{kind="analysis",result="ok"}',
        f'ainvr_camera_online{{camera="{camera.slug}"}} 0.0',
        f'ainvr_queue_depth{{stage="inference-{slug}"}} 7.0',
    ]
    for line in expected:
        assert line in text, line

    # Once the supervisor reports the process gone, its live gauge stops counting; counters stay.
    metrics.process_died(int(done.stdout))
    text = admin_client.get("/metrics").content.decode()
    assert f'ainvr_queue_depth{{stage="inference-{slug}"}}' not in text
    assert f'ainvr_frames_in_total{{camera="{slug}"}} 50.0' in text


def test_clean_multiprocess_dir_removes_only_dead_processes_files(tmp_path):
    from core.metrics import clean_multiprocess_dir

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f"counter_{dead_pid}.db").write_bytes(b"x")
    (tmp_path / f"counter_{os.getpid()}.db").write_bytes(b"x")

    assert clean_multiprocess_dir(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"counter_{os.getpid()}.db"]
