from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cameras.models import Camera
from recordings.models import Segment, StorageSettings
from recordings.retention import delete_camera_footage
from recordings.selectors import camera_footage


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

    def get_urls(self):
        view = self.admin_site.admin_view(self.delete_footage_view)
        return [
            path("delete-footage/<int:camera_id>/", view, name="recordings_segment_delete_footage"),
            *super().get_urls(),
        ]

    def delete_footage_view(self, request, camera_id: int):
        """Delete every recording of one camera, once its name is typed (Settings → the camera)."""
        camera = Camera.objects.filter(pk=camera_id).first()
        if camera is None:
            raise Http404("No such camera.")
        back = reverse("admin:cameras_camera_change", args=[camera.pk])
        if request.method == "POST":
            if request.POST.get("confirm_name", "").strip() != camera.name:
                self.message_user(
                    request, f'Nothing deleted: type the camera\'s name, "{camera.name}", to confirm.', messages.ERROR
                )
                return HttpResponseRedirect(request.path)
            report = delete_camera_footage(camera.pk)
            deleted = report.deleted["by_admin"]
            level = messages.WARNING if report.errors else messages.SUCCESS
            text = f"Deleted {deleted} recordings of {camera.name} ({filesizeformat(report.bytes_freed)} freed)."
            if report.errors:
                text += f" {report.errors} files could not be deleted and were kept: see the log."
            self.message_user(request, text, level)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Delete the footage of {camera.name}",
            "camera": camera,
            "footage": camera_footage(camera),
            "opts": Camera._meta,
            "back": back,
        }
        return TemplateResponse(request, "admin/recordings/delete_footage.html", context)

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
