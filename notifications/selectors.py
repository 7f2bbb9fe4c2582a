"""Reads for notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accounts.models import Role, User
from notifications.models import ADMIN_ONLY_EVENTS, PushSubscription, email_list

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from notifications.models import Channel


def admins_only(payload: dict[str, Any]) -> bool:
    """Attendance names people: such a notification reaches admins only."""
    return payload.get("event") in ADMIN_ONLY_EVENTS


def push_subscriptions_for(channel: Channel, *, admins_only: bool = False) -> QuerySet[PushSubscription]:
    """Browsers a web push channel reaches: its chosen users' (all users when none is
    chosen), active users with a role only; admins only when `admins_only`, whoever was
    chosen."""
    roles = [Role.ADMIN] if admins_only else Role.values
    subscriptions = PushSubscription.objects.filter(user__is_active=True, user__role__in=roles)
    chosen = list(channel.push_users.values_list("pk", flat=True))
    if chosen:
        subscriptions = subscriptions.filter(user__in=chosen)
    return subscriptions.select_related("user").order_by("pk")


def email_recipients(channel: Channel, *, admins_only: bool = False) -> list[str]:
    """The channel's addresses; when `admins_only`, without those of users who are not
    admins (an address no user has is the admin's own choice and stays)."""
    addresses = email_list(channel.email_to)
    if not admins_only:
        return addresses
    lowered = {a.lower() for a in addresses}
    users = User.objects.filter(email__isnull=False).exclude(email="")
    others = {e.lower() for e in users.exclude(role=Role.ADMIN, is_active=True).values_list("email", flat=True)}
    admins = {e.lower() for e in users.filter(role=Role.ADMIN, is_active=True).values_list("email", flat=True)}
    blocked = (others - admins) & lowered
    return [a for a in addresses if a.lower() not in blocked]
