from django.contrib import admin

from detection.models import AnalysisJob, ObjectEvent


@admin.register(ObjectEvent)
class ObjectEventAdmin(admin.ModelAdmin):
    list_display = ("label", "camera", "start", "end", "confidence", "track_id", "source")
    list_filter = ("label", "source", "camera")
    date_hierarchy = "start"
    list_select_related = ("camera",)
    raw_id_fields = ("job",)
    readonly_fields = ("created_at",)

    def has_add_permission(self, request):
        return False  # events come from the detectors


class ObjectEventInline(admin.TabularInline):
    model = ObjectEvent
    fields = ("label", "start", "end", "confidence", "track_id")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = ("id", "camera", "start", "end", "status", "progress_percent", "requested_by", "created_at")
    list_filter = ("status", "camera")
    date_hierarchy = "created_at"
    list_select_related = ("camera", "requested_by")
    readonly_fields = (
        "status", "progress", "report", "annotated_video", "error", "rq_job_id",
        "requested_by", "created_at", "started_at", "heartbeat_at", "finished_at",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("camera", "start", "end", "classes", "confidence", "sample_fps", "annotate")}),
        ("Progress", {"fields": readonly_fields}),
    )

    @admin.display(description="progress")
    def progress_percent(self, obj):
        return f"{obj.progress * 100:.0f} %"

    def has_add_permission(self, request):
        return False  # jobs are created from the AI analysis page or the API, which enqueue them
