from django.contrib import admin

from notifications.forms import ChannelAdminForm, RuleAdminForm
from notifications.models import Channel, Delivery, Rule


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ("name", "kind", "enabled", "failing", "consecutive_failures")
    list_filter = ("kind", "enabled", "failing")
    search_fields = ("name", "email_to", "webhook_url")
    readonly_fields = ("failing", "consecutive_failures", "last_error")
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled")}),
        ("Email", {"fields": ("email_to",)}),
        ("Webhook", {"fields": ("webhook_url", "new_webhook_secret")}),
        ("Health", {"fields": ("failing", "consecutive_failures", "last_error")}),
    )


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    list_display = ("name", "enabled", "camera_list", "labels", "attendance_kinds", "cooldown_seconds")
    list_filter = ("enabled",)
    search_fields = ("name",)
    filter_horizontal = ("cameras", "channels")
    fieldsets = (
        (None, {"fields": ("name", "enabled")}),
        ("When", {"fields": ("cameras", "labels", "attendance_kinds", "min_confidence")}),
        ("Active", {"fields": ("weekdays", "active_from", "active_until", "cooldown_seconds")}),
        ("Send through", {"fields": ("channels",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cameras")

    @admin.display(description="cameras")
    def camera_list(self, obj):
        return ", ".join(c.name for c in obj.cameras.all()) or "all"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every notification and its attempts, errors included: read-only."""

    list_display = ("created_at", "channel", "rule", "camera", "status", "attempts", "short_error")
    list_filter = ("status", "channel")
    date_hierarchy = "created_at"
    list_select_related = ("channel", "rule", "camera")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error
