"""The site's one login page, the home page behind it, and logging out."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD

LOGIN_ERROR = "Your username and password didn't match"


def test_the_login_page_renders(anon_client):
    response = anon_client.get("/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_good_credentials_log_in_and_go_home(anon_client, operator_user):
    response = anon_client.post("/login/", {"username": "bob", "password": PASSWORD})

    assert response.status_code == 302 and response.url == "/"
    assert anon_client.session["_auth_user_id"] == str(operator_user.pk)
    assert anon_client.get("/").status_code == 200


def test_logging_in_follows_a_local_next(anon_client, admin_user):
    response = anon_client.post("/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"


def test_logging_in_ignores_a_next_on_another_site(anon_client, admin_user):
    response = anon_client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.example/phish"}
    )
    assert response.status_code == 302 and response.url == "/"


@pytest.mark.parametrize(
    ("username", "password"), [("bob", "wrong-password-123"), ("nobody", PASSWORD), ("BOB ", PASSWORD)]
)
def test_bad_credentials_show_the_error_and_do_not_log_in(anon_client, operator_user, username, password):
    response = anon_client.post("/login/", {"username": username, "password": password})

    assert response.status_code == 200
    html = response.content.decode()
    assert LOGIN_ERROR in html
    assert password not in html
    assert "_auth_user_id" not in anon_client.session
    assert anon_client.get("/").status_code == 302


def test_the_home_page_requires_login(anon_client):
    response = anon_client.get("/")
    assert response.status_code == 302 and response.url == "/login/?next=/"


def test_the_home_page_shows_settings_to_an_admin(admin_client):
    html = admin_client.get("/").content.decode()
    assert '<nav aria-label="Main">' in html
    assert 'href="/admin/">Settings</a>' in html
    assert "alice · Admin" in html


def test_the_home_page_hides_settings_from_an_operator(operator_client):
    html = operator_client.get("/").content.decode()
    assert '<nav aria-label="Main">' in html
    assert "Cameras</a>" in html
    assert "Settings" not in html
    assert "/admin/" not in html
    assert "bob · Operator" in html


def test_the_home_page_lists_enabled_cameras(operator_client, camera):
    html = operator_client.get("/").content.decode()
    assert 'id="camera-gate"' in html
    assert "Offline" in html


def test_logging_out_needs_a_post(operator_client):
    assert operator_client.get("/logout/").status_code == 405
    assert operator_client.get("/").status_code == 200

    response = operator_client.post("/logout/")
    assert response.status_code == 302 and response.url == "/login/"
    assert operator_client.get("/").status_code == 302


def test_logging_out_is_protected_by_csrf(operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    assert client.post("/logout/").status_code == 403
    assert client.get("/").status_code == 200
