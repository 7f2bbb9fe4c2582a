"""Reads about users: their API token's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User

# How much of a key the pages show: enough to tell two keys apart, far too little to use.
KEY_PREFIX_LENGTH = 6


@dataclass(frozen=True)
class TokenExpiry:
    at: datetime
    is_expired: bool


@dataclass(frozen=True)
class TokenStatus:
    created: datetime
    key_prefix: str
    expiry: TokenExpiry | None  # None: the token does not expire (API_TOKEN_MAX_AGE_DAYS=0)


def token_expiry(token: Token, *, now: datetime | None = None) -> TokenExpiry | None:
    """When a token stops working, or None when tokens do not expire."""
    days = settings.API_TOKEN_MAX_AGE_DAYS
    if not days:
        return None
    at = token.created + timedelta(days=days)
    return TokenExpiry(at=at, is_expired=(now or timezone.now()) >= at)


def api_token_status(user: User) -> TokenStatus | None:
    """The user's API token as the pages may show it (never the key itself), or None."""
    token = Token.objects.filter(user=user).first()
    if token is None:
        return None
    return TokenStatus(created=token.created, key_prefix=token.key[:KEY_PREFIX_LENGTH], expiry=token_expiry(token))
