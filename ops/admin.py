from django.contrib import admin
from django.template.response import TemplateResponse

from ops import selectors
from ops.models import SystemStatus


@admin.register(SystemStatus)
class SystemStatusAdmin(admin.ModelAdmin):
    """Settings → System status: the health of every part, for admins only (the admin site
    lets no one else in)."""

    def has_view_permission(self, request, obj=None):
        return bool(getattr(request.user, "is_admin", False))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        from django.urls import path

        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.changelist_view), name=name)]

    def changelist_view(self, request, extra_context=None):
        context = {
            **self.admin_site.each_context(request),
            "title": "System status",
            "opts": self.opts,
            "status": selectors.status(),
        }
        return TemplateResponse(request, "admin/ops/status.html", context)
