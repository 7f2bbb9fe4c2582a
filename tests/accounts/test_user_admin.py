"""Admins manage users in the admin; the last active admin cannot be removed."""

from __future__ import annotations

import pytest

from accounts.models import Role, User
from tests.conftest import PASSWORD

NEW_PASSWORD = "Orange-Kettle-Songs-58"
LAST_ADMIN_ERROR = "This is the last active admin"


def change_form_data(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on" if user.is_active else "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value != ""}


@pytest.fixture
def second_admin(db) -> User:
    return User.objects.create_user("carol", "carol@example.com", PASSWORD, role=Role.ADMIN)


def test_an_admin_adds_a_user_with_a_role(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "dave",
            "role": "admin",
            "email": "dave@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    dave = User.objects.get(username="dave")
    assert (dave.role, dave.is_staff, dave.is_superuser, dave.email) == (Role.ADMIN, True, True, "dave@example.com")
    assert dave.check_password(NEW_PASSWORD)


def test_adding_a_user_refuses_a_weak_password(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "dave", "role": "operator", "password1": "password1", "password2": "password1"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password2"]
    assert not User.objects.filter(username="dave").exists()


def test_an_admin_changes_a_users_role(admin_client, operator_user):
    response = admin_client.post(
        f"/admin/accounts/user/{operator_user.pk}/change/", change_form_data(operator_user, role="admin")
    )

    assert response.status_code == 302
    operator_user.refresh_from_db()
    assert (operator_user.role, operator_user.is_staff, operator_user.is_superuser) == (Role.ADMIN, True, True)


def test_an_admin_resets_a_users_password(admin_client, operator_user):
    response = admin_client.post(
        f"/admin/accounts/user/{operator_user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    operator_user.refresh_from_db()
    assert operator_user.check_password(NEW_PASSWORD)
    assert not operator_user.check_password(PASSWORD)


def test_an_admin_deletes_a_user(admin_client, operator_user):
    response = admin_client.post(f"/admin/accounts/user/{operator_user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=operator_user.pk).exists()


def test_the_last_active_admin_cannot_be_deleted(admin_client, admin_user, operator_user):
    assert admin_client.get(f"/admin/accounts/user/{admin_user.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/accounts/user/{admin_user.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_the_last_active_admin_cannot_be_deleted_with_the_bulk_action(admin_client, admin_user, operator_user):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [admin_user.pk, operator_user.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert User.objects.filter(pk__in=[admin_user.pk, operator_user.pk]).count() == 2


def test_every_admin_at_once_cannot_be_deleted(admin_client, admin_user, second_admin):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [admin_user.pk, second_admin.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert User.objects.filter(role=Role.ADMIN).count() == 2


@pytest.mark.parametrize("change", [{"role": "operator"}, {"is_active": ""}], ids=["demoted", "deactivated"])
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin_client, admin_user, change):
    response = admin_client.post(
        f"/admin/accounts/user/{admin_user.pk}/change/", change_form_data(admin_user, **change)
    )

    assert response.status_code == 200
    assert LAST_ADMIN_ERROR in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_admin


def test_an_inactive_admin_does_not_count_as_another_admin(admin_client, admin_user, second_admin):
    second_admin.is_active = False
    second_admin.save()

    response = admin_client.post(
        f"/admin/accounts/user/{admin_user.pk}/change/", change_form_data(admin_user, role="operator")
    )

    assert LAST_ADMIN_ERROR in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_admin


@pytest.mark.parametrize("change", [{"role": "operator"}, {"is_active": ""}], ids=["demoted", "deactivated"])
def test_an_admin_can_be_demoted_or_deactivated_when_another_admin_exists(admin_client, second_admin, change):
    response = admin_client.post(
        f"/admin/accounts/user/{second_admin.pk}/change/", change_form_data(second_admin, **change)
    )

    assert response.status_code == 302
    second_admin.refresh_from_db()
    assert not second_admin.is_admin


def test_an_admin_can_be_deleted_when_another_admin_exists(admin_client, admin_user, second_admin):
    response = admin_client.post(f"/admin/accounts/user/{admin_user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert list(User.objects.filter(role=Role.ADMIN)) == [second_admin]


def test_the_last_active_admins_password_cannot_be_disabled(admin_client, admin_user, operator_user):
    response = admin_client.post(
        f"/admin/accounts/user/{admin_user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 200
    assert LAST_ADMIN_ERROR in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)


def test_a_password_can_be_disabled_when_another_admin_can_log_in(admin_client, admin_user, second_admin):
    response = admin_client.post(
        f"/admin/accounts/user/{second_admin.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 302
    second_admin.refresh_from_db()
    assert not second_admin.has_usable_password()
