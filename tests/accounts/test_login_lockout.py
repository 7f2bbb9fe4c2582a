"""Password guessing on the login page meets a lockout (django-axes): per username and per
client address, counted in the database, with the reason on the page, the right password
refused while locked, and X-Forwarded-For trusted only as far as NUM_PROXIES says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from axes.models import AccessAttempt
from django.test import AsyncClient, Client
from django.utils import timezone

from accounts.models import User
from tests.conftest import PASSWORD

LOCKED = "Too many failed logins"
WRONG = "Your username and password didn't match"
LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


@pytest.fixture
def proxies(settings):
    """A setter for the number of trusted proxies; unused, the shipped default (0) holds."""

    def set_count(count: int) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
        settings.NUM_PROXIES = count

    return set_count


def log_in(username: str, password: str, *, address: str = "192.0.2.1", forwarded: str | None = None, client=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return (client or Client()).post("/login/", {"username": username, "password": password}, **extra)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_the_login_page_locks_a_username_after_the_failure_limit(operator_user):
    answers = [log_in("bob", f"wrong-{i}") for i in range(LIMIT)]

    assert [a.status_code for a in answers] == [200] * (LIMIT - 1) + [429]
    assert all(WRONG in a.content.decode() for a in answers[:-1])
    locked_page = answers[-1].content.decode()
    assert LOCKED in locked_page and "15 minutes" in locked_page
    assert 'name="password"' in locked_page  # still the login page, with the reason on it
    assert answers[-1]["Retry-After"] == "900"


def test_the_lockout_holds_with_the_argon2_hasher(operator_user, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    operator_user.set_password(PASSWORD)
    operator_user.save()
    assert operator_user.password.startswith("argon2")

    statuses = [log_in("bob", f"wrong-{i}").status_code for i in range(LIMIT)]

    assert statuses == [200] * (LIMIT - 1) + [429]
    assert not logged_in(log_in("bob", PASSWORD))


def test_the_right_password_is_refused_while_locked(operator_user):
    for i in range(LIMIT):
        log_in("bob", f"wrong-{i}")

    response = log_in("bob", PASSWORD)

    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not logged_in(response)
    # From another address too: the username itself is locked.
    assert not logged_in(log_in("bob", PASSWORD, address="198.51.100.9"))


def test_an_unknown_username_is_locked_the_same_way(db):
    statuses = [log_in("nobody", f"wrong-{i}").status_code for i in range(LIMIT + 1)]
    assert statuses == [200] * (LIMIT - 1) + [429, 429]


def test_one_address_guessing_many_usernames_is_locked(operator_user):
    for i in range(LIMIT):
        log_in(f"user{i}", "wrong-password")

    assert not logged_in(log_in("bob", PASSWORD))
    # Bob himself, from his own address, is not locked out by someone else's guessing.
    assert logged_in(log_in("bob", PASSWORD, address="198.51.100.9"))


def test_rotating_x_forwarded_for_changes_nothing_without_a_proxy(operator_user):
    for i in range(LIMIT):
        log_in(f"user{i}", "wrong-password", forwarded=f"203.0.113.{i + 1}")

    response = log_in("bob", PASSWORD, forwarded="203.0.113.200")
    assert response.status_code == 429 and not logged_in(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.1"}


def test_behind_one_proxy_the_rightmost_forwarded_address_is_the_client(operator_user, proxies):
    proxies(1)
    # The proxy (always 127.0.0.1 here) appends what it saw; the left part is the client's own.
    for i in range(LIMIT):
        log_in(f"user{i}", "wrong-password", address="127.0.0.1", forwarded=f"10.9.9.{i}, 203.0.113.7")

    assert not logged_in(log_in("bob", PASSWORD, address="127.0.0.1", forwarded="10.0.0.1, 203.0.113.7"))
    assert logged_in(log_in("bob", PASSWORD, address="127.0.0.1", forwarded="203.0.113.7, 198.51.100.4"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_a_forwarded_entry_that_is_no_address_falls_back_to_the_peer(operator_user, proxies):
    proxies(1)
    response = log_in("bob", "wrong-password", address="127.0.0.1", forwarded="not-an-address")
    assert response.status_code == 200
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_the_lockout_ends_after_the_cool_off(operator_user):
    for i in range(LIMIT):
        log_in("bob", f"wrong-{i}")
    assert not logged_in(log_in("bob", PASSWORD))

    # As if the last failure were LOGIN_LOCKOUT_MINUTES (15) ago.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))

    assert logged_in(log_in("bob", PASSWORD))


def test_the_limit_and_the_cool_off_come_from_the_settings(operator_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)

    statuses = [log_in("bob", f"wrong-{i}").status_code for i in range(2)]

    assert statuses == [200, 429]
    response = log_in("bob", PASSWORD)
    assert "1 minute after" in response.content.decode() and response["Retry-After"] == "60"


def test_failures_are_counted_in_the_database_for_every_process(operator_user):
    for i in range(3):
        log_in("bob", f"wrong-{i}")

    attempt = AccessAttempt.objects.get(username="bob")
    assert attempt.failures_since_start == 3
    assert "wrong-" not in attempt.post_data  # passwords are never stored


def test_an_admin_unlocks_a_user_from_the_users_admin(admin_client, operator_user):
    for i in range(LIMIT):
        log_in("bob", f"wrong-{i}")
    assert not logged_in(log_in("bob", PASSWORD, address="198.51.100.9"))

    response = admin_client.post(
        "/admin/accounts/user/", {"action": "unlock_logins", "_selected_action": [operator_user.pk]}
    )

    assert response.status_code == 302
    assert logged_in(log_in("bob", PASSWORD))


def test_the_admin_login_sends_to_the_locked_login_page(operator_user, admin_user):
    for i in range(LIMIT):
        log_in("alice", f"wrong-{i}")

    # The admin's own login form takes no password: it leads to the site's login page.
    client = Client()
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert "_auth_user_id" not in client.session

    response = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_lockout_page_is_shown_by_the_asgi_server_too(operator_user):
    """daphne runs the middleware chain asynchronously, where axes 8.3.1 passes its lockout
    handler other arguments than under WSGI."""
    for i in range(LIMIT - 1):
        log_in("bob", f"wrong-{i}")

    # async_to_sync: the request's sync parts run on this thread, in the test's transaction.
    response = async_to_sync(AsyncClient().post)(
        "/login/", {"username": "bob", "password": "wrong-again"}, REMOTE_ADDR="192.0.2.1"
    )

    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_logging_in_stays_possible_for_force_login_and_good_passwords(operator_user):
    # A right password resets nothing, but a few wrong ones below the limit lock nobody out.
    for i in range(LIMIT - 1):
        log_in("bob", f"wrong-{i}")
    assert logged_in(log_in("bob", PASSWORD))

    client = Client()
    client.force_login(User.objects.get(username="bob"))
    assert client.get("/").status_code == 200
