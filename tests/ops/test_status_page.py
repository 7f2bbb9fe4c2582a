"""Settings → System status: admins only; shows services, queues, hosts, cameras and disks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cameras.models import CameraLease, CameraStatus, WorkerHost

URL = "/admin/ops/systemstatus/"


def test_it_rejects_operator(operator_client):
    assert operator_client.get(URL).status_code == 403


def test_it_sends_anonymous_to_login(anon_client):
    response = anon_client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_is_listed_in_settings_for_admins(admin_client):
    assert URL in admin_client.get("/admin/").content.decode()


def test_it_shows_cameras_hosts_errors_and_queues(admin_client, camera):
    now = timezone.now()
    CameraStatus.objects.update_or_create(
        camera=camera, defaults={"state": "error", "last_error": "The camera refused the password"}
    )
    CameraLease.objects.create(
        camera=camera, host="nvr-host-1", expires_at=now + timedelta(seconds=20), acquired_at=now
    )
    # A standby host that holds no camera is shown by its heartbeat row.
    WorkerHost.objects.create(host="nvr-host-2", instance="i2", machine="m", pid=7, started_at=now, heartbeat_at=now)
    page = admin_client.get(URL).content.decode()

    assert "The camera refused the password" in page
    assert "nvr-host-1" in page and "nvr-host-2" in page
    for queue in settings.RQ_QUEUES:
        assert f"<td>{queue}</td>" in page
    assert "Recordings" in page


def test_a_dead_host_is_shown_silent(admin_client, camera):
    long_ago = timezone.now() - timedelta(hours=1)
    CameraLease.objects.create(camera=camera, host="dead-host", expires_at=long_ago, acquired_at=long_ago)
    page = admin_client.get(URL).content.decode()
    assert "runworkers host dead-host is silent" in page
    assert "no runworkers host holds Gate" in page


def test_a_host_whose_heartbeat_stopped_is_shown_silent(admin_client, camera):
    now = timezone.now()
    beat = now - timedelta(seconds=settings.WORKER_LEASE_SECONDS + 5)
    WorkerHost.objects.create(host="quiet-host", instance="i", machine="m", pid=7, started_at=beat, heartbeat_at=beat)
    WorkerHost.objects.create(host="busy-host", instance="j", machine="m", pid=8, started_at=now, heartbeat_at=now)
    page = admin_client.get(URL).content.decode()
    assert "runworkers host quiet-host is silent" in page
    assert "runworkers host busy-host is silent" not in page


@pytest.mark.django_db
def test_it_still_renders_when_redis_is_down(admin_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    page = admin_client.get(URL)
    assert page.status_code == 200
    assert "redis is down" in page.content.decode()
