"""System checks for the login lockout's view of client addresses."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def proxy_count_check(app_configs, **kwargs):
    # Behind a proxy every request comes from the proxy's address: with NUM_PROXIES=0 the
    # per-address lockout then counts everyone's failures together, and one attacker locks
    # every user out of logging in.
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not settings.NUM_PROXIES:
        return [
            Warning(
                "TRUST_X_FORWARDED_PROTO is on (a proxy in front) but NUM_PROXIES is 0: every client "
                "has the proxy's address, so the login lockout and the API throttles treat all clients as one.",
                hint="Set NUM_PROXIES=1 behind one nginx (docs/deployment.md).",
                id="accounts.W001",
            )
        ]
    return []
