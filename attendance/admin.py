from django.contrib import admin

from attendance.models import AlertLog, AttendanceEvent, DailyAttendance, Employee, FaceTemplate, Presence


class FaceTemplateInline(admin.TabularInline):
    model = FaceTemplate
    fields = ("photo", "model_name", "dimension", "quality", "created_at")
    readonly_fields = ("photo", "model_name", "dimension", "quality", "created_at")
    extra = 0

    def has_add_permission(self, request, obj=None):
        # A template needs its embedding: photos are added by the enrolment page, which
        # runs the face model and the quality gates.
        return False


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "active", "template_count", "presence_state")
    list_filter = ("active", "department")
    search_fields = ("code", "name", "department")
    fieldsets = (
        (None, {"fields": ("code", "name")}),
        ("Work", {"fields": ("department", "active")}),
    )
    inlines = [FaceTemplateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("face_templates").select_related("presence")

    @admin.display(description="face photos")
    def template_count(self, obj):
        return len(obj.face_templates.all())

    @admin.display(description="presence")
    def presence_state(self, obj):
        presence = getattr(obj, "presence", None)
        return presence.get_state_display() if presence else "never seen"


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ("employee", "state", "since", "last_seen", "last_camera")
    list_filter = ("state", "last_camera")
    search_fields = ("employee__name", "employee__code")
    list_select_related = ("employee", "last_camera")

    def has_add_permission(self, request):
        return False


@admin.register(DailyAttendance)
class DailyAttendanceAdmin(admin.ModelAdmin):
    list_display = ("date", "employee", "first_in", "last_out")
    list_filter = ("date",)
    date_hierarchy = "date"
    search_fields = ("employee__name", "employee__code")
    list_select_related = ("employee",)


@admin.register(AttendanceEvent)
class AttendanceEventAdmin(admin.ModelAdmin):
    list_display = ("time", "kind", "employee", "camera", "similarity")
    list_filter = ("kind", "camera")
    date_hierarchy = "time"
    search_fields = ("employee__name", "employee__code")
    list_select_related = ("employee", "camera")


@admin.register(AlertLog)
class AlertLogAdmin(admin.ModelAdmin):
    list_display = ("started", "kind", "employee", "camera", "resolved", "message")
    list_filter = ("kind", "camera")
    date_hierarchy = "started"
    search_fields = ("employee__name", "employee__code", "message")
    list_select_related = ("employee", "camera")
