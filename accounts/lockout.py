"""Login lockout (django-axes): who the client is, and what a locked-out client is told.

django-axes counts failed logins in the database (its AccessAttempt rows, shared by every
process) per username and per client address, and refuses authentication once either
reaches LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES. The settings point axes here for
the client's address (AXES_CLIENT_IP_CALLABLE) and for the page it answers with
(AXES_LOCKOUT_CALLABLE).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from rest_framework.settings import api_settings


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the trusted proxies saw it.

    NUM_PROXIES=0 (the default): the address of the socket's peer; X-Forwarded-For is
    ignored, since anyone can send one. NUM_PROXIES=n: the n-th address from the right of
    X-Forwarded-For, the one the outermost trusted proxy appended, which the client cannot
    choose. It is the rule DRF's throttles follow with REST_FRAMEWORK's NUM_PROXIES (the same
    value, read from there), so logins and the API agree on who a client is. An entry that is
    not an address (a misconfigured proxy) is ignored for the peer's address.
    """
    remote_addr = request.META.get("REMOTE_ADDR") or None
    num_proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        candidate = addresses[-min(num_proxies, len(addresses))]
        if _is_address(candidate):
            return candidate
    return remote_addr if remote_addr and _is_address(remote_addr) else None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    minutes = lockout_minutes()
    return (
        f"Too many failed logins for this account or from this address: logging in is locked "
        f"for {minutes} minute{'s' if minutes != 1 else ''} after the last try. "
        "An admin can unlock an account sooner (Settings › Users › Unlock)."
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What axes answers to a login refused for a lockout: the login page with the reason
    (HTTP 429, Retry-After). Built from the request alone: axes 8.3.1's async middleware
    passes the credentials where the original response belongs, and daphne runs it async."""
    message = lockout_message()
    retry_after = str(lockout_minutes() * 60)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        form = AuthenticationForm(request)
        username = request.POST.get("username", "") if request.method == "POST" else ""
        form.initial["username"] = username[:150]
        context = {"form": form, "next": request.POST.get("next", ""), "lockout_message": message}
        response = TemplateResponse(request, "registration/login.html", context, status=429)
        response.render()
    response["Retry-After"] = retry_after
    return response
