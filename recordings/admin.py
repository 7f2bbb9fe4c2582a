from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from recordings.models import Segment, StorageSettings


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Segments are written by the workers and deleted by retention: read-only here."""

    list_display = ("camera", "start", "end", "duration", "size", "codec", "resolution")
    list_filter = ("camera", "codec")
    date_hierarchy = "start"
    search_fields = ("path",)
    list_select_related = ("camera",)
    readonly_fields = [f.name for f in Segment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @admin.display(description="resolution")
    def resolution(self, obj):
        return f"{obj.width}x{obj.height}" if obj.width else ""


@admin.register(StorageSettings)
class StorageSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "max_total_gb", "min_free_gb", "updated_at")
    fields = ("max_total_gb", "min_free_gb")

    def has_add_permission(self, request):
        return not StorageSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
