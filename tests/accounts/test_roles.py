"""The role decides who may enter the settings (the Django admin and the RQ dashboard)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Role, User
from tests.conftest import PASSWORD

ADMIN_ONLY_PAGES = ["/admin/", "/admin/accounts/user/", "/admin/cameras/camera/", "/admin/django_rq/dashboard/"]


def test_saving_a_user_sets_the_django_flags_from_the_role(db):
    user = User.objects.create_user("dora", password=PASSWORD, role=Role.OPERATOR, is_staff=True, is_superuser=True)
    assert (user.is_staff, user.is_superuser) == (False, False)

    user.role = Role.ADMIN
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (True, True)

    user.role = Role.OPERATOR
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_createsuperuser_makes_an_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", "--noinput", "--username", "root2", "--email", "root2@example.com", stdout=io.StringIO()
    )

    user = User.objects.get(username="root2")
    assert user.role == Role.ADMIN
    assert user.is_admin and user.is_staff and user.is_superuser
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("path", ADMIN_ONLY_PAGES)
def test_the_admin_role_may_enter_the_settings(admin_client, path):
    assert admin_client.get(path).status_code == 200


@pytest.mark.parametrize("path", [*ADMIN_ONLY_PAGES, "/admin/login/"])
def test_an_operator_gets_403_in_the_settings(operator_client, path):
    response = operator_client.get(path)
    assert response.status_code == 403
    assert b"Your role does not give access" in response.content


def test_an_operator_cannot_read_the_queue_statistics(operator_client):
    response = operator_client.get("/admin/django_rq/dashboard/stats.json")
    assert response.status_code in (401, 403)
    assert b"queues" not in response.content


def test_an_operator_cannot_post_to_the_settings(operator_client, admin_user):
    response = operator_client.post(f"/admin/accounts/user/{admin_user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=admin_user.pk).exists()


@pytest.mark.parametrize("path", [*ADMIN_ONLY_PAGES, "/admin/login/?next=/admin/cameras/camera/"])
def test_anonymous_visitors_are_sent_to_the_login_page(anon_client, path):
    response = anon_client.get(path, follow=True)
    expected_next = path.split("?next=")[-1]
    assert response.redirect_chain[-1] == (f"/login/?next={expected_next}", 302)
    assert response.templates[0].name == "registration/login.html"


def test_the_admin_login_page_sends_an_admin_to_the_settings(admin_client):
    response = admin_client.get("/admin/login/")
    assert response.status_code == 302 and response.url == "/admin/"


def test_an_inactive_admin_cannot_log_in(client, admin_user):
    admin_user.is_active = False
    admin_user.save()

    response = client.post("/login/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_admin_loses_an_open_session(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200

    admin_user.is_active = False
    admin_user.save()

    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert client.get("/").status_code == 302
