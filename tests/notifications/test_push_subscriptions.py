"""The browser side of web push: the service worker, the subscribe button, and the
subscription endpoints (role users only, CSRF-protected, one row per browser)."""

from __future__ import annotations

import base64
import json
import os

import pytest
from django.template import engines
from django.test import Client, RequestFactory

from notifications import vapid
from notifications.models import PushSubscription, VapidKey

SUBSCRIBE = "/notifications/push/subscribe/"
UNSUBSCRIBE = "/notifications/push/unsubscribe/"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc123") -> dict:
    return {"endpoint": endpoint, "expirationTime": None,
            "keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": b64(os.urandom(16))}}  # fmt: skip


def csrf_client(user) -> Client:
    """A client that must send the CSRF token like the button's script does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # the page sets the csrftoken cookie
    return client


def post_json(client, url, body, *, csrf=True):
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value} if csrf else {}
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_an_operator_subscribes_this_browser_once(operator_user):
    client = csrf_client(operator_user)
    body = subscription()
    first = post_json(client, SUBSCRIBE, body)
    again = post_json(client, SUBSCRIBE, body)
    assert (first.status_code, again.status_code) == (201, 200)
    row = PushSubscription.objects.get()
    assert (row.user, row.endpoint, row.p256dh, row.auth) == (
        operator_user, body["endpoint"], body["keys"]["p256dh"], body["keys"]["auth"],
    )  # fmt: skip


def test_another_user_on_the_same_browser_takes_the_subscription_over(operator_user, admin_user):
    body = subscription()
    post_json(csrf_client(operator_user), SUBSCRIBE, body)
    post_json(csrf_client(admin_user), SUBSCRIBE, body)
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [admin_user.pk]


def test_each_browser_of_a_user_has_its_own_subscription(operator_user):
    client = csrf_client(operator_user)
    post_json(client, SUBSCRIBE, subscription("https://fcm.googleapis.com/fcm/send/phone"))
    post_json(client, SUBSCRIBE, subscription("https://updates.push.services.mozilla.com/wpush/v2/laptop"))
    assert PushSubscription.objects.filter(user=operator_user).count() == 2


def test_without_the_csrf_token_nothing_is_stored(operator_user):
    response = post_json(csrf_client(operator_user), SUBSCRIBE, subscription(), csrf=False)
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(anon_client, db):
    response = anon_client.post(SUBSCRIBE, json.dumps(subscription()), content_type="application/json")
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/login/")
    assert not PushSubscription.objects.exists()


def test_a_user_without_a_role_is_refused(db):
    from accounts.models import User

    user = User.objects.create_user("carol", password="x" * 12)
    User.objects.filter(pk=user.pk).update(role="")
    user.refresh_from_db()
    assert post_json(csrf_client(user), SUBSCRIBE, subscription()).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"endpoint": "http://push.example.com/x", "keys": subscription()["keys"]}, "endpoint"),
        ({"endpoint": "not a url", "keys": subscription()["keys"]}, "endpoint"),
        ({"endpoint": "https://push.example.com/x"}, "p256dh"),
        ({**subscription(), "keys": {"p256dh": b64(b"short"), "auth": b64(os.urandom(16))}}, "p256dh"),
        ({**subscription(), "keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": "%%%"}}, "auth"),
        ({**subscription(), "keys": "nope"}, "p256dh"),
    ],
)
def test_bad_subscriptions_get_a_400_naming_the_field(operator_user, body, field):
    response = post_json(csrf_client(operator_user), SUBSCRIBE, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_a_400(operator_user, raw):
    client = csrf_client(operator_user)
    response = client.post(SUBSCRIBE, raw, content_type="application/json",
                           headers={"X-CSRFToken": client.cookies["csrftoken"].value})  # fmt: skip
    assert response.status_code == 400


def test_unsubscribing_removes_only_ones_own_browser(operator_user, admin_user):
    mine, theirs = subscription("https://push.example.com/mine"), subscription("https://push.example.com/theirs")
    operator = csrf_client(operator_user)
    post_json(operator, SUBSCRIBE, mine)
    post_json(csrf_client(admin_user), SUBSCRIBE, theirs)

    assert post_json(operator, UNSUBSCRIBE, {"endpoint": theirs["endpoint"]}).json()["removed"] is False
    assert post_json(operator, UNSUBSCRIBE, {"endpoint": mine["endpoint"]}).json()["removed"] is True
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [theirs["endpoint"]]
    assert post_json(operator, UNSUBSCRIBE, {}).status_code == 400


def test_the_endpoints_take_only_posts(operator_client):
    assert operator_client.get(SUBSCRIBE).status_code == 405
    assert operator_client.get(UNSUBSCRIBE).status_code == 405


def test_the_service_worker_is_served_from_the_root(anon_client):
    response = anon_client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'addEventListener("push"' in body and "showNotification" in body and "notificationclick" in body


def render_button(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string('{% include "notifications/push_button.html" %}')
    return template.render({"user": user}, request)


def test_the_button_offers_the_public_key_to_users_with_a_role(operator_user, anon_client):
    from django.contrib.auth.models import AnonymousUser

    assert render_button(operator_user).strip() == ""  # no key made yet: no button
    key, _ = vapid.ensure_key()
    html = render_button(operator_user)
    assert f'data-key="{key.public_key}"' in html
    assert 'data-subscribe-url="/notifications/push/subscribe/"' in html
    assert 'data-sw-url="/sw.js"' in html
    assert "notifications/push.js" in html
    pem_body = "".join(key.private_pem.splitlines()[1:-1])
    assert pem_body[:40] not in html
    assert render_button(AnonymousUser()).strip() == ""


def test_the_button_script_is_served(anon_client, db):
    from django.contrib.staticfiles import finders

    path = finders.find("notifications/push.js")
    assert path and "pushManager.subscribe" in open(path).read()


def test_the_private_key_is_on_no_page(admin_client, operator_client):
    key, _ = vapid.ensure_key()
    secret = "".join(key.private_pem.splitlines()[1:-1])[:40]
    for client, url in [(admin_client, "/admin/"), (admin_client, "/admin/notifications/"), (operator_client, "/"),
                        (operator_client, "/sw.js")]:  # fmt: skip
        assert secret not in client.get(url).content.decode()
    assert VapidKey.objects.count() == 1
