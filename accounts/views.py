"""The user's own pages: their API token."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.selectors import api_token_status
from accounts.services import create_api_token, revoke_api_tokens


@role_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    """See whether one has an API token; create or replace it (its key shown this once), or revoke it."""
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = create_api_token(request.user).key
        elif action == "revoke":
            if revoke_api_tokens(request.user):
                messages.success(request, "Your API token is revoked: it opens nothing any more.")
            return redirect("accounts:api-token")
        else:
            return HttpResponseBadRequest("action: choose create or revoke.")
    context = {"status": api_token_status(request.user), "new_key": new_key}
    response = render(request, "accounts/api_token.html", context)
    add_never_cache_headers(response)  # the new key must not stay in a cache
    return response
