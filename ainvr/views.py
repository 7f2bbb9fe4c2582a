from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.permissions import has_role
from cameras.selectors import cameras_for_dashboard


@login_required
def home(request):
    """The landing page: every enabled camera and what the workers last saw of it."""
    if not has_role(request.user):
        raise PermissionDenied
    return render(request, "home.html", {"cameras": cameras_for_dashboard()})
