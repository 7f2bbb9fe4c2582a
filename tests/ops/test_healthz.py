"""/healthz: no login, no detail; 503 as soon as the database or Redis does not answer."""

from __future__ import annotations

import socket

import pytest

from tests.testenv import start_private_redis


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again once the block ends: nothing listens


@pytest.mark.django_db
def test_it_answers_ok_without_login(anon_client):
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_unhealthy_when_redis_is_unreachable(anon_client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unhealthy\n"  # no detail for the public


@pytest.mark.django_db
def test_it_turns_unhealthy_when_its_redis_stops(anon_client, settings, tmp_path):
    proc, port = start_private_redis(tmp_path)
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        assert anon_client.get("/healthz").status_code == 200
        proc.terminate()
        proc.wait(timeout=10)
        assert anon_client.get("/healthz").status_code == 503
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.django_db
def test_it_does_not_need_redis_when_none_is_configured(anon_client, settings):
    settings.REDIS_URL = None
    assert anon_client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_it_is_unhealthy_when_the_database_fails(anon_client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise __import__("django").db.OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    assert anon_client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_it_is_not_redirected_to_https(anon_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert anon_client.get("/healthz").status_code == 200
