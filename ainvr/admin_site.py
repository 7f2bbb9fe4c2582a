"""The admin is AINVR's settings UI, and only the admin role may enter it.

Operators are authenticated staff of the site but not of its settings: they get a 403,
not the admin's login form (which would invite them to log in as someone else).
Anonymous visitors are sent to the site's one login page.
"""

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url


class AinvrAdminSite(admin.AdminSite):
    site_header = "AINVR settings"
    site_title = "AINVR settings"
    index_title = "Settings"
    site_url = "/"

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and getattr(user, "is_admin", False))

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied
            return redirect("admin:index")
        next_url = request.GET.get("next") or resolve_url("admin:index")
        return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))
