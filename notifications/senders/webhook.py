"""Webhooks: a JSON POST signed with HMAC-SHA256 over the timestamp and the body.

Headers: X-AINVR-Timestamp (Unix seconds), X-AINVR-Signature ("sha256=" + hex HMAC of
"<timestamp>." + body with the channel's secret; absent when no secret is set),
X-AINVR-Event, X-AINVR-Delivery. The receiver recomputes the HMAC and rejects old timestamps."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from django.conf import settings

from notifications.senders import DeliveryError, PermanentError

RETRYABLE_STATUSES = {408, 425, 429}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_for(delivery, message) -> dict:
    """The documented payload (README, Notifications)."""
    payload = delivery.payload
    return {
        "id": delivery.pk,
        "event": message.event,
        "test": delivery.is_test,
        "title": message.title,
        "message": message.text,
        "at": message.at.isoformat(),
        "url": message.url,
        "rule": payload.get("rule"),
        "camera": payload.get("camera"),
        "object": payload.get("object"),
        "employee": payload.get("employee"),
        "alert": payload.get("alert"),
        "health": payload.get("health"),
    }


def send(delivery, message, snapshot) -> None:
    channel = delivery.channel
    if not channel.webhook_url:
        raise PermanentError("The channel has no URL.")
    body = json.dumps(body_for(delivery, message), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "AINVR-webhook/1",
        "X-AINVR-Event": message.event,
        "X-AINVR-Delivery": str(delivery.pk),
        "X-AINVR-Timestamp": timestamp,
    }
    if channel.webhook_secret:
        headers["X-AINVR-Signature"] = signature(channel.webhook_secret, timestamp, body)
    try:
        response = requests.post(
            channel.webhook_url, data=body, headers=headers, timeout=settings.NOTIFICATIONS_TIMEOUT,
            allow_redirects=False,
        )  # fmt: skip
    except requests.RequestException as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
    if 200 <= response.status_code < 300:
        return
    detail = f"HTTP {response.status_code} from the webhook: {response.text[:200]}"
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
        raise DeliveryError(detail)
    raise PermanentError(detail)
