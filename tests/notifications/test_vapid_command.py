"""`manage.py vapid` makes the key pair once, prints only the public key, and --rotate
replaces it (dropping subscriptions made for the old key)."""

from __future__ import annotations

import base64
from io import StringIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

from notifications.models import PushSubscription, VapidKey


def run(*args) -> str:
    out = StringIO()
    call_command("vapid", *args, stdout=out)
    return out.getvalue()


def test_it_makes_one_p256_key_pair_and_prints_the_public_half(db):
    output = run()
    key = VapidKey.objects.get()
    assert "VAPID key pair made." in output and f"Public key: {key.public_key}" in output
    assert "PRIVATE" not in output
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(private.curve, ec.SECP256R1)
    public = base64.urlsafe_b64decode(key.public_key + "=" * (-len(key.public_key) % 4))
    assert public == private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    assert "already exists" in run()
    assert VapidKey.objects.get().pk == key.pk


def test_rotating_replaces_the_key_and_drops_old_subscriptions(operator_user):
    run()
    old = VapidKey.objects.get().public_key
    PushSubscription.objects.create(user=operator_user, endpoint="https://push.example.com/a", p256dh="x", auth="y")
    output = run("--rotate")
    assert "1 browser subscription(s) deleted" in output
    assert VapidKey.objects.get().public_key != old
    assert not PushSubscription.objects.exists()
