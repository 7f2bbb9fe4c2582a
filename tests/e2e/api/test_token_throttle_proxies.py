"""The token endpoint's throttle and lockout key on the client's address as NUM_PROXIES
trusts X-Forwarded-For: rotating the header gains an attacker nothing."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from accounts.lockout import client_ip
from tests.conftest import PASSWORD

TOKEN_URL = "/api/auth/token/"
RATE = 10  # tries a minute


@pytest.fixture
def proxies(settings):
    def set_count(count: int) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
        settings.NUM_PROXIES = count

    return set_count


@pytest.fixture
def throttle_only(settings):
    """The lockout out of the way, to see the throttle alone."""
    settings.AXES_FAILURE_LIMIT = 1000


def guess(client, i: int, *, address="192.0.2.1", forwarded=None, password=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(TOKEN_URL, {"username": "bob", "password": password or f"guess-{i}"}, **extra)


def test_rotating_x_forwarded_for_does_not_escape_the_throttle(operator_user, throttle_only):
    client = APIClient()
    statuses = [guess(client, i, forwarded=f"203.0.113.{i + 1}").status_code for i in range(RATE + 1)]

    assert statuses == [400] * RATE + [429]
    response = guess(client, 99, forwarded="198.51.100.1", password=PASSWORD)
    assert response.status_code == 429 and "throttled" in response.json()["detail"]


def test_behind_one_proxy_the_throttle_keys_on_the_rightmost_address(operator_user, throttle_only, proxies):
    proxies(1)
    client = APIClient()
    statuses = [
        guess(client, i, address="127.0.0.1", forwarded=f"10.1.1.{i}, 203.0.113.7").status_code for i in range(RATE + 1)
    ]

    assert statuses == [400] * RATE + [429]
    # Another client behind the same proxy is not held back by the first one's guessing.
    other = guess(client, 0, address="127.0.0.1", forwarded="203.0.113.7, 198.51.100.4", password=PASSWORD)
    assert other.status_code == 200 and other.json()["token"]


def test_a_logged_in_client_is_throttled_too(operator_user, persona_api_client, throttle_only):
    client = persona_api_client("operator")  # sends a valid token: no way around the throttle
    statuses = [guess(client, i).status_code for i in range(RATE + 1)]
    assert statuses[-1] == 429


def test_the_token_endpoint_counts_towards_the_login_lockout(operator_user):
    client = APIClient()
    statuses = [guess(client, i, forwarded=f"203.0.113.{i}").status_code for i in range(5)]

    assert statuses == [400, 400, 400, 400, 429]
    locked = guess(client, 0, password=PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["detail"]
    assert locked["Retry-After"] == "900"
    assert "token" not in locked.json()


@pytest.mark.parametrize("count", [0, 1, 2])
@pytest.mark.parametrize(
    "forwarded", [None, "203.0.113.7", "10.0.0.1, 203.0.113.7", "10.0.0.1, 10.0.0.2, 203.0.113.7", " 203.0.113.9 "]
)
def test_the_login_lockout_and_drf_throttles_see_the_same_client(proxies, count, forwarded):
    proxies(count)
    extra = {"REMOTE_ADDR": "192.0.2.1"}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().post(TOKEN_URL, **extra)

    # DRF's own rule (any throttle of any view) and the one axes is given agree.
    assert client_ip(request) == BaseThrottle().get_ident(request)
