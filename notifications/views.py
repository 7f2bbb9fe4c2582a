"""The service worker and the push subscription endpoints (JSON, CSRF-protected, session
users with a role only)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import has_role
from notifications import services
from notifications.forms import PushSubscriptionForm


@require_GET
def service_worker(request):
    """/sw.js, served from the root so its scope is the whole site. Holds no data."""
    response = render(request, "notifications/sw.js", content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.")
    return body


def _bad_request(error: ValidationError) -> JsonResponse:
    detail = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    return JsonResponse(detail, status=400)


@login_required
@require_POST
@never_cache
def push_subscribe(request):
    if not has_role(request.user):
        raise PermissionDenied
    try:
        form = PushSubscriptionForm.from_json(_json_body(request))
    except ValidationError as e:
        return _bad_request(e)
    if not form.is_valid():
        return JsonResponse(form.errors, status=400)
    _, created = services.save_push_subscription(
        request.user, **form.cleaned_data, user_agent=request.headers.get("User-Agent", "")
    )
    return JsonResponse({"subscribed": True}, status=201 if created else 200)


@login_required
@require_POST
@never_cache
def push_unsubscribe(request):
    if not has_role(request.user):
        raise PermissionDenied
    try:
        endpoint = _json_body(request).get("endpoint")
    except ValidationError as e:
        return _bad_request(e)
    if not isinstance(endpoint, str) or not endpoint:
        return JsonResponse({"endpoint": ["Give the subscription's endpoint."]}, status=400)
    removed = services.delete_push_subscription(request.user, endpoint=endpoint)
    return JsonResponse({"subscribed": False, "removed": removed})
