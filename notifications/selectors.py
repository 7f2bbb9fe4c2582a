"""Reads for notifications."""

from __future__ import annotations

from accounts.models import Role
from notifications.models import PushSubscription


def push_subscriptions_for(channel):
    """Browsers a web push channel reaches: its chosen users' (all users when none is
    chosen), active users with a role only."""
    subscriptions = PushSubscription.objects.filter(user__is_active=True, user__role__in=Role.values)
    chosen = list(channel.push_users.values_list("pk", flat=True))
    if chosen:
        subscriptions = subscriptions.filter(user__in=chosen)
    return subscriptions.select_related("user").order_by("pk")
