"""Every page carries the Content-Security-Policy (django-csp): scripts and styles from the
site only, no framing, no plugins; Django-RQ's admin pages alone allow inline code (its
templates have it). The browser test (tests/browser/test_content_security_policy.py)
checks that the pages work under it."""

from __future__ import annotations

import pytest


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("url", ["/login/", "/healthz"])
def test_a_public_page_carries_the_policy(url, anon_client):
    policy = directives(anon_client.get(url))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:", "blob:"}
    assert set(policy["media-src"]) == {"'self'", "blob:"}


@pytest.mark.parametrize("url", ["/", "/live/", "/playback/", "/analysis/", "/admin/", "/api/docs/"])
def test_signed_in_pages_allow_no_inline_script(url, admin_client):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]


def test_the_api_docs_load_their_start_up_script_from_a_url(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "<script>" not in page and "<style>" not in page
    script = admin_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_only_django_rq_pages_allow_inline_code(admin_client):
    policy = directives(admin_client.get("/admin/django_rq/dashboard/"))
    assert "'unsafe-inline'" in policy["script-src"]
    assert directives(admin_client.get("/admin/cameras/camera/"))["script-src"] == ["'self'"]


def test_the_browsable_api_has_no_inline_style(admin_client):
    page = admin_client.get("/api/cameras/", HTTP_ACCEPT="text/html").content.decode()
    assert "rest_framework/css/default.css" in page
    assert "<style>" not in page


def test_the_reset_logs_page_has_no_inline_script(admin_client):
    page = admin_client.get("/attendance/report/").content.decode()
    assert "<script>" not in page
    assert "attendance/reset_logs" in page
