import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from axes.utils import reset as reset_login_attempts
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from accounts.selectors import token_expiry

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet


class BootstrapError(Exception):
    """The first admin cannot be created as asked; the message says why in one line."""


def generate_password() -> str:
    # 16 URL-safe characters: ~96 bits, typed once by a person and then changed.
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Bootstrapped:
    admin: User
    created: bool
    # Set only when this call made the password up: show it to the person, once.
    generated_password: str | None = None


@transaction.atomic
def bootstrap_admin(*, username: str, email: str = "", password: str | None = None) -> Bootstrapped:
    """Create the first admin unless an active admin exists.

    A supplied password must pass the password validators: no known or weak default
    can be set this way; without one, a random password is generated."""
    existing = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("date_joined").first()
    if existing is not None:
        return Bootstrapped(admin=existing, created=False)
    if User.objects.filter(username=username).exists():
        raise BootstrapError(f"a user named {username!r} exists but is not an active admin; choose another --username")
    user = User(username=username, email=email, role=Role.ADMIN)
    generated = None
    if password is None:
        password = generated = generate_password()
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise BootstrapError("the admin password is too weak: " + " ".join(e.messages)) from None
    user.set_password(password)
    user.save()
    return Bootstrapped(admin=user, created=True, generated_password=generated)


def would_leave_no_admin(user: User, *, new_role: str | None = None, new_active: bool | None = None) -> bool:
    """True when changing (or deleting, with no new values) this user removes the last active admin."""
    if not user.pk or not user.is_admin:
        return False
    still_admin = (new_role or user.role) == Role.ADMIN and (user.is_active if new_active is None else new_active)
    if still_admin and (new_role is not None or new_active is not None):
        return False
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


# --- API tokens ------------------------------------------------------------------------
# One token a user (DRF's authtoken). Its key is shown once, when it is made; pages show its
# date and a few characters after that (accounts.selectors.api_token_status).


@transaction.atomic
def create_api_token(user: User) -> Token:
    """A new token for the user, replacing (revoking) any they had. Return it with its key."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def obtain_api_token(user: User) -> Token:
    """The user's token for POST /api/auth/token/: the one they have, or a new one when they
    have none or theirs has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None:
        expiry = token_expiry(token)
        if expiry is None or not expiry.is_expired:
            return token
    return create_api_token(user)


def revoke_api_tokens(users: "User | QuerySet[User] | Iterable[int]") -> int:
    """Delete the tokens of these users (a User or a queryset); return how many there were."""
    if isinstance(users, User):
        users = [users.pk]
    deleted, _ = Token.objects.filter(user__in=users).delete()
    return deleted


# --- Login lockout ---------------------------------------------------------------------


def unlock_logins(usernames: "Iterable[str]") -> int:
    """Forget the failed logins counted against these usernames (django-axes): they may log
    in again at once. Failures counted against a client address are left to expire
    (or `manage.py axes_reset_ip ADDRESS`)."""
    # Never an empty name: axes resets every attempt when given neither name nor address.
    return sum(reset_login_attempts(username=name) for name in usernames if name)
