"""Fixtures for the notification tests: a clean `notifications` queue on the test Redis and
a real RQ worker to drain it, loopback SMTP and HTTP servers, channels and rules."""

from __future__ import annotations

import socket

import pytest

from notifications.models import Channel, Rule
from tests.notifications.servers import HTTPRecorder, LoopbackSMTP, SMTPHandler


@pytest.fixture
def notifications_queue(settings):
    """The real `notifications` queue, emptied before and after; retries come at once
    (the production waits are tested on the policy itself)."""
    import django_rq
    from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

    settings.NOTIFICATIONS_RETRY_SECONDS = [0, 0, 0]
    queue = django_rq.get_queue("notifications")

    def clean():
        queue.empty()
        for registry in (FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry):
            r = registry(queue=queue)
            for job_id in r.get_job_ids():
                r.remove(job_id, delete_job=True)

    clean()
    yield queue
    clean()


@pytest.fixture
def run_jobs(notifications_queue):
    """Drain the queue with a real rq SimpleWorker (burst mode, in this process, so the
    jobs see the test's database transaction). Returns True when it ran any job."""
    from rq import SimpleWorker

    def run() -> bool:
        worker = SimpleWorker([notifications_queue], connection=notifications_queue.connection)
        return worker.work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on loopback, and Django's SMTP backend pointed at it."""
    handler = SMTPHandler()
    controller = LoopbackSMTP(handler)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    handler.controller = controller
    yield handler
    controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_recorder():
    servers = []

    def start(*statuses: int) -> HTTPRecorder:
        server = HTTPRecorder(statuses=list(statuses) or [200]).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mail_channel(db):
    return Channel.objects.create(name="Security desk", kind="email", email_to="desk@example.com, boss@example.com")


@pytest.fixture
def person_rule(db, camera, mail_channel):
    rule = Rule.objects.create(name="People at the gate", labels=["person"], min_confidence=0.6, cooldown_seconds=300)
    rule.cameras.add(camera)
    rule.channels.add(mail_channel)
    return rule


@pytest.fixture
def object_event(db, camera):
    """Makes live ObjectEvents on the camera: object_event(label="person", confidence=0.9, ...)."""
    from django.utils import timezone

    from detection.models import ObjectEvent

    def make(label="person", confidence=0.9, at=None, **fields):
        return ObjectEvent.objects.create(
            camera=fields.pop("camera", camera), label=label, confidence=confidence, box=[0.1, 0.2, 0.5, 0.9],
            start=at or timezone.now(), **fields,
        )  # fmt: skip

    return make


@pytest.fixture(autouse=True)
def fresh_cache():
    """The VAPID public key is cached; each test starts without it."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
