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
from django.urls import reverse

# The Settings index, grouped by what an admin does rather than by Python package. A model
# goes where MODEL_SECTIONS puts it, else where its app goes (APP_SECTIONS), else under System.
SECTIONS = (
    "Cameras",
    "Live layouts",
    "Recording and storage",
    "AI",
    "Attendance",
    "Notifications",
    "Users",
    "System",
)
APP_SECTIONS = {
    "cameras": "Cameras",
    "recordings": "Recording and storage",
    "detection": "AI",
    "review": "AI",
    "attendance": "Attendance",
    "notifications": "Notifications",
    "accounts": "Users",
}
MODEL_SECTIONS = {
    "cameras.dashboardlayout": "Live layouts",
    "notifications.healthcondition": "System",
    "authtoken.tokenproxy": "System",
}


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
            if not request.user.is_authenticated:
                if request.path == reverse("admin:logout", current_app=self.name):
                    return redirect(settings.LOGIN_URL)  # never log in only to be logged out
                # Straight to the site's login page, not through the admin's own.
                return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
            if not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return guarded

    def get_app_list(self, request, app_label=None):
        """The index and the sidebar by section (SECTIONS); an app's own page as Django has it."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        sections: dict[str, list[dict]] = {name: [] for name in SECTIONS}
        for app in apps:
            for model in app["models"]:
                key = f"{app['app_label']}.{model['object_name'].lower()}"
                section = MODEL_SECTIONS.get(key) or APP_SECTIONS.get(app["app_label"], "System")
                sections[section].append(model)
        return [
            {
                "name": name,
                # Section names are not apps: the header links to the first page of the section.
                "app_label": name.lower().replace(" ", "-"),
                "app_url": models[0]["admin_url"] or "",
                "has_module_perms": True,
                "models": models,
            }
            for name, models in sections.items()
            if models
        ]

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied
            return redirect("admin:index")
        next_url = request.GET.get("next") or resolve_url("admin:index")
        return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))


def tidy_third_party_admins() -> None:
    """Adjust what other packages register on the admin site.

    - Groups: roles replace them, so they are not offered.
    - django-rq's dashboard entry is a model without a table: its object pages (change,
      history, delete) would crash, so they lead back to the dashboard; its scheduler
      page needs rq-scheduler, which AINVR does not use (RQ schedules jobs itself);
      its other pages answer 404 for a queue, job or worker that does not exist
      (ainvr.rq_pages).
    """
    from django.contrib.auth.models import Group
    from django.urls import URLPattern
    from django_rq.admin import QueueAdmin
    from django_rq.models import Dashboard

    if admin.site.is_registered(Group):
        admin.site.unregister(Group)

    class RQDashboardAdmin(QueueAdmin):
        def change_view(self, request, object_id, form_url="", extra_context=None):
            return redirect("admin:django_rq_dashboard_changelist")

        def history_view(self, request, object_id, extra_context=None):
            return redirect("admin:django_rq_dashboard_changelist")

        def delete_view(self, request, object_id, extra_context=None):
            return redirect("admin:django_rq_dashboard_changelist")

        def get_urls(self):
            from ainvr.rq_pages import guard_urls

            urls = [
                url
                for url in super().get_urls()
                if not (isinstance(url, URLPattern) and str(url.pattern).startswith("schedulers/"))
            ]
            return guard_urls(urls, self.admin_site)

    if admin.site.is_registered(Dashboard):
        admin.site.unregister(Dashboard)
        admin.site.register(Dashboard, RQDashboardAdmin)
