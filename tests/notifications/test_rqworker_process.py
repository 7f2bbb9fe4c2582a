"""The deployment path: `manage.py rqworker --with-scheduler notifications` as a real
process on the test database and Redis sends the mail, and runs a delayed retry through
RQ's scheduler after the SMTP server refused the first attempt."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from notifications.models import Delivery, DeliveryStatus
from notifications.services import notify_object_event
from tests.installs import REPO
from tests.pipeline.test_runworkers_processes import child_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def rqworker_burst(smtp_port: int, data_dir) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=child_database_url(), DATA_DIR=str(data_dir),
               EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}")  # fmt: skip
    env.pop("DATABASE_TEST_NAME", None)
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", "--with-scheduler", "notifications"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_job_worker_retries_on_schedule_and_delivers(
    smtp, person_rule, object_event, notifications_queue, settings, tmp_path
):
    from rq.registry import ScheduledJobRegistry

    settings.NOTIFICATIONS_RETRY_SECONDS = [1]
    smtp.refuse = 1
    notify_object_event(object_event().pk)  # no transaction open: matched and queued at once
    delivery = Delivery.objects.get()

    first = rqworker_burst(smtp.controller.port, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, smtp.refused, smtp.messages) == (DeliveryStatus.PENDING, 1, 1, [])
    assert "451" in delivery.error

    # The retry waits in RQ's scheduled registry until its time comes.
    scheduled = ScheduledJobRegistry(queue=notifications_queue)
    assert scheduled.get_job_ids() == [delivery.rq_job_id]
    deadline = time.monotonic() + 30
    while not scheduled.get_jobs_to_schedule(int(time.time())):
        assert time.monotonic() < deadline, "the retry never came due"
        time.sleep(0.1)

    second = rqworker_burst(smtp.controller.port, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert [m["Subject"] for m in smtp.messages] == ["[AINVR] Person at Gate"]
