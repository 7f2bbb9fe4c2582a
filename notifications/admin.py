from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from notifications import services
from notifications.forms import ChannelAdminForm, RuleAdminForm
from notifications.models import Channel, Delivery, DeliveryAttempt, HealthCondition, PushSubscription, Rule


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ("name", "kind", "enabled", "failing", "consecutive_failures")
    list_filter = ("kind", "enabled", "failing")
    search_fields = ("name", "email_to", "webhook_url")
    readonly_fields = ("failing", "consecutive_failures", "last_error")
    filter_horizontal = ("push_users",)
    actions = ["send_test_notification", "resume"]
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled")}),
        ("Email", {"fields": ("email_to",)}),
        ("Webhook", {"fields": ("webhook_url", "new_webhook_secret")}),
        ("Web push", {"fields": ("push_users",)}),
        ("Health", {"fields": ("failing", "consecutive_failures", "last_error")}),
    )

    @admin.action(description="Send a test notification")
    def send_test_notification(self, request, queryset):
        for channel in queryset:
            services.send_test_notification(channel)
        deliveries = reverse("admin:notifications_delivery_changelist")
        self.message_user(
            request,
            format_html(
                "Test notification queued for {} channel(s); its result shows in <a href='{}'>Deliveries</a>.",
                queryset.count(),
                deliveries,
            ),
            messages.SUCCESS,
        )

    @admin.action(description="Resume: clear the failing flag and send what was held")
    def resume(self, request, queryset):
        held = sum(services.resume_channel(channel) for channel in queryset)
        self.message_user(request, f"Resumed {queryset.count()} channel(s); {held} held notification(s) queued.")


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    list_display = ("name", "enabled", "camera_list", "labels", "attendance_kinds", "health_kinds", "cooldown_seconds")
    list_filter = ("enabled",)
    search_fields = ("name",)
    filter_horizontal = ("cameras", "channels")
    fieldsets = (
        (None, {"fields": ("name", "enabled")}),
        ("When", {"fields": ("cameras", "labels", "attendance_kinds", "min_confidence")}),
        (
            "Health alerts",
            {
                "fields": ("health_kinds", "health_after_seconds", "notify_recovery"),
                "description": "Trouble with the system itself, checked every few seconds by runworkers. A trouble "
                "notifies once it has lasted 'alert after'; the cooldown then holds back repeats about the same "
                "camera, disk or process (a camera that keeps dropping out), and one 'back' follows each alert sent. "
                "Attendance events go to admins only, whoever a channel names.",
            },
        ),
        (
            "Active",
            {
                "fields": ("weekdays", "active_from", "active_until", "cooldown_seconds"),
                "description": "Days and times are in the site's time zone. Minimum confidence applies to "
                "object classes only.",
            },
        ),
        ("Send through", {"fields": ("channels",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cameras")

    @admin.display(description="cameras")
    def camera_list(self, obj):
        return ", ".join(c.name for c in obj.cameras.all()) or "all"


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "finished_at", "ok", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every notification and its attempts, errors included: read-only."""

    list_display = ("created_at", "channel", "rule", "camera", "status", "is_test", "attempts", "short_error")
    list_filter = ("status", "is_test", "channel")
    date_hierarchy = "created_at"
    list_select_related = ("channel", "rule", "camera")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.action(description="Send again (failed or held ones)")
    def retry(self, request, queryset):
        count = services.retry_deliveries(queryset)
        self.message_user(request, f"{count} notification(s) queued again.")


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """Browsers that receive web push; delete one to stop it (e.g. a lost phone)."""

    list_display = ("user", "user_agent", "created_at", "last_success_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user_agent")
    fields = ("user", "user_agent", "created_at", "last_success_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HealthCondition)
class HealthConditionAdmin(admin.ModelAdmin):
    """What the health check sees wrong now (runworkers keeps it; read-only)."""

    list_display = ("kind", "title", "since", "detail")
    list_filter = ("kind",)
    fields = ("kind", "title", "camera", "since", "detail", "subject")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a trouble ends when the check sees it mended, which sends its "back"
