"""Web push through a local HTTP server acting as the push service: the payload decrypts
with the subscription's keys, the VAPID signature verifies with the server's public key,
and browsers the push service forgot are dropped."""

from __future__ import annotations

import base64
import json
import os
import time

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from notifications import vapid
from notifications.models import Channel, Delivery, DeliveryStatus, PushSubscription, Rule
from notifications.services import notify_object_event


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class Browser:
    """What a browser holds for a push subscription: its ECDH key pair and auth secret."""

    def __init__(self, user, endpoint: str):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = PushSubscription.objects.create(
            user=user, endpoint=endpoint, p256dh=vapid.b64url(public), auth=vapid.b64url(self.auth)
        )

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth))


@pytest.fixture
def push_channel(db, camera):
    vapid.ensure_key()
    channel = Channel.objects.create(name="Phones", kind="webpush")
    rule = Rule.objects.create(name="People", labels=["person"], cooldown_seconds=0)
    rule.channels.add(channel)
    return channel


def _notify(event, capture):
    with capture(execute=True):
        notify_object_event(event.pk)


def test_the_push_payload_decrypts_with_the_subscription_keys(
    http_recorder, push_channel, operator_user, run_jobs, object_event, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_URL = "https://nvr.example.com"
    service = http_recorder(201)
    browser = Browser(operator_user, service.url + "/push/v1/abc")
    _notify(object_event(confidence=0.91), django_capture_on_commit_callbacks)
    run_jobs()

    [received] = service.requests
    assert received.path == "/push/v1/abc"
    assert received.headers["Content-Encoding"] == "aes128gcm"
    assert int(received.headers["TTL"]) == settings.WEBPUSH_TTL
    assert received.headers["Urgency"] == "high"
    assert b"Person" not in received.body  # encrypted on the wire
    data = browser.decrypt(received.body)
    assert data["title"] == "Person at Gate"
    assert data["body"].startswith("Person (91 %) seen at Gate")
    assert data["url"].startswith("https://nvr.example.com/playback/?camera=gate&at=")
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    browser.subscription.refresh_from_db()
    assert browser.subscription.last_success_at is not None


def test_the_vapid_header_is_signed_with_the_servers_key(
    http_recorder, push_channel, operator_user, run_jobs, object_event, django_capture_on_commit_callbacks, settings
):
    service = http_recorder(201)
    Browser(operator_user, service.url + "/push/v1/abc")
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()

    scheme, params = service.requests[0].headers["Authorization"].split(" ", 1)
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == vapid.public_key()
    header, claims, signature = fields["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(fields["k"]))
    raw = b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    claims = json.loads(b64url_decode(claims))
    assert claims["aud"] == service.url
    assert claims["sub"] == settings.WEBPUSH_SUBJECT
    assert claims["exp"] > time.time()


def test_a_browser_the_push_service_forgot_is_dropped_and_the_others_still_get_it(
    http_recorder, push_channel, operator_user, admin_user, run_jobs, object_event, django_capture_on_commit_callbacks
):
    gone, alive = http_recorder(410), http_recorder(201)
    Browser(operator_user, gone.url + "/old")
    browser = Browser(admin_user, alive.url + "/new")
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()

    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [alive.url + "/new"]
    assert browser.decrypt(alive.requests[0].body)["title"] == "Person at Gate"
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_a_retry_pushes_only_to_the_browsers_not_reached_yet(
    http_recorder, push_channel, operator_user, admin_user, run_jobs, object_event, django_capture_on_commit_callbacks
):
    steady, flaky = http_recorder(201), http_recorder(500, 201)
    Browser(operator_user, steady.url + "/a")
    Browser(admin_user, flaky.url + "/b")
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()

    assert (len(steady.requests), len(flaky.requests)) == (1, 2)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert "500" in delivery.attempt_log.get(number=1).error


def test_a_channel_for_chosen_users_skips_the_others_and_inactive_users(
    http_recorder, push_channel, operator_user, admin_user, run_jobs, object_event, django_capture_on_commit_callbacks
):
    chosen, other = http_recorder(201), http_recorder(201)
    Browser(operator_user, chosen.url + "/op")
    Browser(admin_user, other.url + "/admin")
    push_channel.push_users.add(operator_user)
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()
    assert (len(chosen.requests), len(other.requests)) == (1, 0)

    operator_user.is_active = False
    operator_user.save()
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()
    assert len(chosen.requests) == 1
    latest = Delivery.objects.order_by("-pk").first()
    assert (latest.status, latest.attempts) == (DeliveryStatus.FAILED, 1)
    assert "No browser is subscribed" in latest.error


def test_without_a_vapid_key_the_delivery_fails_saying_what_to_run(
    http_recorder, push_channel, operator_user, run_jobs, object_event, django_capture_on_commit_callbacks
):
    from notifications.models import VapidKey

    service = http_recorder(201)
    Browser(operator_user, service.url + "/x")
    VapidKey.objects.all().delete()
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()
    assert service.requests == []
    assert "manage.py vapid" in Delivery.objects.get().error
