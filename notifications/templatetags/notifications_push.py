from django import template

from notifications import vapid

register = template.Library()


@register.simple_tag
def vapid_public_key() -> str:
    """The VAPID public key browsers subscribe with; empty before `manage.py vapid`."""
    return vapid.public_key() or ""
