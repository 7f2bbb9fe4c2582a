from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
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


def _view_on_site(request, content_type_id, object_id):
    """The admin's "view on site" link (Django's shortcut view), for models that have a
    page on the site; the others (Django-RQ's table-less model among them) are a 404."""
    try:
        model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
    except (ValueError, ContentType.DoesNotExist):
        raise Http404("No such content type.") from None
    if model is None or not hasattr(model, "get_absolute_url") or not model._meta.managed:
        raise Http404("This kind of object has no page on the site.")
    return contenttype_views.shortcut(request, content_type_id, object_id)


def view_on_site(request, content_type_id, object_id):
    # Looked up at request time: the admin site is only set up once the apps are ready.
    return admin.site.admin_view(_view_on_site)(request, content_type_id, object_id)


def not_found(request, exception):
    """404s under /api/ are JSON like the rest of the API; pages get the HTML one."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error: the administrator can find it in the logs."}, status=500)
    return defaults.server_error(request)
