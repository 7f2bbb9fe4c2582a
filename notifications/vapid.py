"""The server's VAPID key pair for web push: made once by `manage.py vapid`, kept in the
database (every host running a job worker signs with it), the private half never served."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import cache
from django.db import transaction

from notifications.models import PushSubscription, VapidKey

PUBLIC_KEY_CACHE = "notifications:vapid-public-key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key() -> VapidKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(private_pem=pem, public_key=b64url(public))


def current_key() -> VapidKey | None:
    return VapidKey.objects.order_by("-created_at", "-pk").first()


@transaction.atomic
def ensure_key() -> tuple[VapidKey, bool]:
    """The key pair, made when there is none. Returns (key, created)."""
    VapidKey.objects.select_for_update().all().exists()  # two commands at once make one key
    key = current_key()
    if key is not None:
        return key, False
    key = _new_key()
    key.save()
    cache.delete(PUBLIC_KEY_CACHE)
    return key, True


@transaction.atomic
def rotate_key() -> tuple[VapidKey, int]:
    """A new key pair. Browser subscriptions were made for the old public key and push
    services refuse them now, so they are deleted (users turn notifications on again).
    Returns (key, subscriptions deleted)."""
    VapidKey.objects.all().delete()
    deleted, _ = PushSubscription.objects.all().delete()
    key = _new_key()
    key.save()
    cache.delete(PUBLIC_KEY_CACHE)
    return key, deleted


def public_key() -> str | None:
    """The applicationServerKey browsers subscribe with (None before `manage.py vapid`)."""
    value = cache.get(PUBLIC_KEY_CACHE)
    if value is None:
        key = current_key()
        value = key.public_key if key else ""
        cache.set(PUBLIC_KEY_CACHE, value, 60)
    return value or None


def signer():
    """A py_vapid signer for pywebpush, or None when no key was made."""
    from py_vapid import Vapid

    key = current_key()
    return Vapid.from_pem(key.private_pem.encode()) if key else None
