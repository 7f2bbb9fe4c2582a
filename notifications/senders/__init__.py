"""One sender per channel kind: send(delivery, message, snapshot) returns when the channel
accepted the notification and raises DeliveryError (worth retrying) or PermanentError
(retrying cannot help) otherwise. Imported on first use: the web process never loads them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


class DeliveryError(Exception):
    """The channel refused or could not be reached; a later retry may work."""


class PermanentError(DeliveryError):
    """Retrying the same notification cannot work (e.g. the webhook answered 400)."""


@dataclass(frozen=True)
class Snapshot:
    filename: str
    content: bytes
    mimetype: str


SENDERS = {"email": "notifications.senders.email", "webhook": "notifications.senders.webhook",
           "webpush": "notifications.senders.webpush"}  # fmt: skip


def sender_for(kind: str):
    return import_module(SENDERS[kind]).send
