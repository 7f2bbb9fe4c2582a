"""API token authentication with an optional age limit (API_TOKEN_MAX_AGE_DAYS)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.permissions import has_role
from accounts.selectors import token_expiry


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing (401) a token older than API_TOKEN_MAX_AGE_DAYS
    and the token of a user who has no role any more."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        expires = token_expiry(token)
        if expires is not None and expires.is_expired:
            raise exceptions.AuthenticationFailed(
                f"Token expired at {expires.at.isoformat(timespec='seconds')}: create a new one on the API token page "
                "(/account/token/) or with POST /api/auth/token/."
            )
        if not has_role(user):
            raise exceptions.AuthenticationFailed("This user has no role: the token opens nothing.")
        return user, token
