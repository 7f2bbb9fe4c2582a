"""Web push (RFC 8030/8291/8292) with pywebpush: each subscribed browser of the channel's
users (admins only for attendance, whoever the channel names) gets an encrypted JSON message
({title, body, url, tag, at}) that the service worker (/sw.js) shows. A browser the push
service no longer knows (404/410) is forgotten."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone
from pywebpush import WebPushException, webpush

from notifications import vapid
from notifications.models import Delivery, PushSubscription
from notifications.selectors import admins_only, push_subscriptions_for
from notifications.senders import DeliveryError, PermanentError

GONE = {404, 410}


def push_data(message) -> str:
    return json.dumps(
        {"title": message.title, "body": message.text, "url": message.url, "tag": message.tag,
         "at": message.at.isoformat()}
    )  # fmt: skip


def send(delivery, message, snapshot) -> None:
    signer = vapid.signer()
    if signer is None:
        raise PermanentError("No VAPID key: run `manage.py vapid` once.")
    private = admins_only(delivery.payload)
    reach = push_subscriptions_for(delivery.channel, admins_only=private)
    subscriptions = list(reach.exclude(pk__in=delivery.done_targets))
    if not subscriptions and not delivery.done_targets:
        if private:
            raise PermanentError("No admin's browser is subscribed (attendance notifications go to admins only).")
        raise PermanentError("No browser is subscribed: users turn notifications on from the web UI.")
    data = push_data(message)
    errors = []
    for subscription in subscriptions:
        try:
            webpush(
                subscription.info(), data=data, vapid_private_key=signer,
                vapid_claims={"sub": settings.WEBPUSH_SUBJECT},  # a new dict each time: pywebpush adds "aud" to it
                ttl=settings.WEBPUSH_TTL, timeout=settings.NOTIFICATIONS_TIMEOUT,
                headers={"Urgency": "high"},  # alerts wake a phone that saves battery
            )  # fmt: skip
        except WebPushException as e:
            status = getattr(e.response, "status_code", None)
            if status in GONE:
                subscription.delete()
                continue
            errors.append(f"{subscription}: {e.message.splitlines()[0]}")
            continue
        except Exception as e:  # connection errors, timeouts
            errors.append(f"{subscription}: {type(e).__name__}: {e}")
            continue
        # Remember each browser reached, so a retry after a partial failure pushes only to the rest.
        delivery.done_targets = [*delivery.done_targets, subscription.pk]
        Delivery.objects.filter(pk=delivery.pk).update(done_targets=delivery.done_targets)
        PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
    if errors:
        raise DeliveryError("; ".join(errors))
    if not delivery.done_targets:
        raise PermanentError("Every subscribed browser has since unsubscribed.")
