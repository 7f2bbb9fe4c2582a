"""Decorators for the operator pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from accounts.permissions import has_role


def role_required(view):
    """Anonymous visitors go to the login page; users without a role get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_role(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
