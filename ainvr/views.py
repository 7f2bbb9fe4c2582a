from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from accounts.permissions import has_role
from cameras.selectors import cameras_for_dashboard


@login_required
def home(request):
    """The landing page: every enabled camera and what the workers last saw of it."""
    if not has_role(request.user):
        raise PermissionDenied
    return render(request, "home.html", {"cameras": cameras_for_dashboard()})


def not_found(request, exception):
    """404s under /api/ are JSON like the rest of the API; pages get the HTML one."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error: the administrator can find it in the logs."}, status=500)
    return defaults.server_error(request)
