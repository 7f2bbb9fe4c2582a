"""API tokens: revoked when the password changes or the user loses their role, optionally
expiring, and visible (never in full after creation) and revocable in the UI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import create_api_token
from tests.conftest import PASSWORD

NEW_PASSWORD = "Orange-Kettle-Songs-58"


@pytest.fixture(autouse=True)
def empty_cache():
    # The token endpoint's throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token(operator_user) -> Token:
    return Token.objects.create(user=operator_user)


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    return api(key).get("/api/cameras/").status_code == 200


# --- Revoked with the password, the account or the role ----------------------------------


def test_changing_ones_own_password_revokes_the_token(operator_client, token):
    assert works(token.key)

    response = operator_client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert not Token.objects.filter(user=token.user).exists()
    assert api(token.key).get("/api/cameras/").status_code == 401


def test_an_admin_resetting_a_password_revokes_the_token(admin_client, operator_user, token):
    response = admin_client.post(
        f"/admin/accounts/user/{operator_user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert not works(token.key)


def test_an_admin_disabling_a_password_revokes_the_token(admin_client, operator_user, token):
    response = admin_client.post(
        f"/admin/accounts/user/{operator_user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 302
    assert not works(token.key)


def test_set_password_anywhere_revokes_the_token_on_save(operator_user, token):
    user = User.objects.get(pk=operator_user.pk)
    user.set_password(NEW_PASSWORD)
    user.save()

    assert not works(token.key)


def test_deactivating_a_user_revokes_the_token(operator_user, token):
    operator_user.is_active = False
    operator_user.save(update_fields=["is_active"])

    assert not Token.objects.filter(key=token.key).exists()


def test_a_role_change_to_nothing_revokes_the_token(operator_user, token):
    User.objects.filter(pk=operator_user.pk).update(role="")  # a role no longer offered
    user = User.objects.get(pk=operator_user.pk)
    assert not works(token.key)  # refused at once

    user.save()
    assert not Token.objects.filter(key=token.key).exists()


def test_a_role_change_between_roles_keeps_the_token(operator_user, token):
    operator_user.role = Role.ADMIN
    operator_user.save()
    assert works(token.key)


def test_other_saves_and_logins_keep_the_token(operator_user, token, settings):
    operator_user.email = "robert@example.com"
    operator_user.save()
    # A login re-hashes a password stored with an older hasher: the same password, token kept.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    User.objects.filter(pk=operator_user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    response = APIClient().post("/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="192.0.2.50")

    assert response.status_code == 302
    assert User.objects.get(pk=operator_user.pk).password.startswith("md5$")
    assert works(token.key)


# --- Expiry (API_TOKEN_MAX_AGE_DAYS) -----------------------------------------------------


def age(token: Token, days: float) -> None:
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=days))


def test_tokens_do_not_expire_by_default(token):
    age(token, 3650)
    assert works(token.key)


def test_an_expired_token_is_refused_with_a_clear_reason(token, settings):
    settings.API_TOKEN_MAX_AGE_DAYS = 30
    age(token, 29)
    assert works(token.key)

    age(token, 31)
    response = api(token.key).get("/api/cameras/")

    assert response.status_code == 401
    assert "Token expired" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_endpoint_replaces_an_expired_token(operator_user, token, settings):
    settings.API_TOKEN_MAX_AGE_DAYS = 30
    age(token, 31)

    # A client still sending its expired token may ask for a new one.
    response = api(token.key).post("/api/auth/token/", {"username": "bob", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token"] != token.key and body["expires"]
    assert works(body["token"])


def test_the_token_endpoint_returns_a_valid_token_unchanged(operator_user, token):
    response = APIClient().post("/api/auth/token/", {"username": "bob", "password": PASSWORD})
    assert response.json() == {"token": token.key, "expires": None}


def test_the_token_endpoint_refuses_overlong_fields_with_a_400(db):
    response = APIClient().post("/api/auth/token/", {"username": "u" * 5000, "password": "p"})
    assert response.status_code == 400 and "username" in response.json()


# --- The user's token page --------------------------------------------------------------


def test_the_token_page_says_when_there_is_no_token(operator_client):
    html = operator_client.get("/account/token/").content.decode()
    assert "You have no API token" in html and "Create a token" in html


def test_creating_a_token_shows_its_key_once(operator_client, operator_user):
    response = operator_client.post("/account/token/", {"action": "create"})

    key = Token.objects.get(user=operator_user).key
    html = response.content.decode()
    assert response.status_code == 200 and key in html
    assert "no-store" in response["Cache-Control"]
    assert works(key)

    later = operator_client.get("/account/token/").content.decode()
    assert key not in later
    assert key[:6] + "…" in later and "Never" in later


def test_replacing_the_token_revokes_the_old_one(operator_client, token):
    operator_client.post("/account/token/", {"action": "create"})
    assert not works(token.key)
    assert works(Token.objects.get(user=token.user).key)


def test_revoking_the_token_from_its_page(operator_client, token):
    response = operator_client.post("/account/token/", {"action": "revoke"}, follow=True)

    assert "Your API token is revoked" in response.content.decode()
    assert not works(token.key)


def test_the_token_page_shows_the_expiry(operator_client, token, settings):
    settings.API_TOKEN_MAX_AGE_DAYS = 30
    age(token, 31)
    html = operator_client.get("/account/token/").content.decode()
    assert "Expired" in html and token.key not in html


def test_the_token_page_refuses_an_unknown_action(operator_client):
    assert operator_client.post("/account/token/", {"action": "steal"}).status_code == 400


def test_the_token_page_needs_a_login(anon_client):
    response = anon_client.get("/account/token/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_menu_links_to_the_token_page(operator_client):
    assert 'href="/account/token/"' in operator_client.get("/").content.decode()


# --- Admins ------------------------------------------------------------------------------


def test_an_admin_revokes_tokens_from_the_users_admin(admin_client, admin_user, operator_user, token):
    own = create_api_token(admin_user)
    response = admin_client.post(
        "/admin/accounts/user/", {"action": "revoke_api_tokens", "_selected_action": [operator_user.pk]}
    )

    assert response.status_code == 302
    assert not works(token.key)
    assert works(own.key)


def test_the_users_admin_shows_a_token_without_its_key(admin_client, operator_user, token):
    html = admin_client.get(f"/admin/accounts/user/{operator_user.pk}/change/").content.decode()
    assert token.key[:6] + "…" in html and token.key not in html

    listing = admin_client.get("/admin/authtoken/tokenproxy/").content.decode()
    assert "bob" in listing and token.key not in listing
