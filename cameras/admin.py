from concurrent.futures import ThreadPoolExecutor

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cameras.forms import CameraAdminForm, DashboardLayoutAdminForm
from cameras.models import Camera, DashboardLayout, ObjectFilter, ZoneKind
from cameras.probe import ProbeResult, probe_stream
from cameras.secrets import MISMATCH, CredentialsUnreadable
from cameras.selectors import credentials_readable, stream_url_for_worker
from cameras.serializers import ZoneSerializer
from cameras.services import save_camera, set_layout_tiles
from core.labels import COCO_CLASSES


class ObjectFilterInline(admin.TabularInline):
    model = ObjectFilter
    extra = 0
    verbose_name = "object filter"
    verbose_name_plural = "Object filters (per class: sizes and shapes kept, its own threshold)"
    fields = ("label", "threshold", "min_frames", "min_area", "max_area", "min_ratio", "max_ratio")


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraAdminForm
    inlines = [ObjectFilterInline]
    list_display = (
        "name",
        "enabled",
        "state_badge",
        "resolution",
        "codec",
        "fps",
        "recording_enabled",
        "ai_enabled",
        "attendance_enabled",
    )
    list_filter = ("enabled", "recording_enabled", "ai_enabled", "attendance_enabled", "status__state")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("status",)
    readonly_fields = (
        "credentials_state",
        "status_state",
        "status_last_frame_at",
        "status_details",
        "status_last_error",
    )
    actions = ["test_connection"]
    # Seconds to wait for a stream to open (and again for its first packets) per stream tested.
    probe_timeout_s = 5.0
    fieldsets = (
        (None, {"fields": ("name", "slug", "enabled")}),
        ("Streams", {"fields": ("stream_url", "detect_url")}),
        (
            "Credentials",
            {
                "fields": (
                    "credentials_state",
                    "new_username",
                    "new_password",
                    "clear_credentials",
                    "username_key",
                    "password_key",
                )  # fmt: skip
            },
        ),
        ("Recording", {"fields": ("recording_enabled", "segment_seconds", "retention_days")}),
        ("AI", {"fields": ("ai_enabled", "ai_classes", "ai_confidence", "detect_fps", "motion_gating", "rotation")}),
        ("Attendance", {"fields": ("attendance_enabled",)}),
        (
            "Status (written by the workers)",
            {"fields": ("status_state", "status_last_frame_at", "status_details", "status_last_error")},
        ),
    )

    delete_confirmation_template = "admin/cameras/camera/delete_confirmation.html"

    def save_model(self, request, obj, form, change):
        save_camera(obj, **form.credential_changes())

    def get_urls(self):
        view = self.admin_site.admin_view(self.zones_view)
        return [path("<int:camera_id>/zones/", view, name="cameras_camera_zones"), *super().get_urls()]

    def zones_view(self, request, camera_id: int):
        """Draw the camera's zones and masks over a recent still of it; the page saves each one
        through /api/zones/ (checked there: a bad outline is refused, the others stay)."""
        camera = Camera.objects.filter(pk=camera_id).first()
        if camera is None:
            raise Http404("No such camera.")
        if not self.has_change_permission(request, camera):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Zones and masks of {camera.name}",
            "camera": camera,
            "opts": Camera._meta,
            "original": camera,
            "zones": ZoneSerializer(camera.zones.order_by("kind", "name"), many=True).data,
            "kinds": ZoneKind.choices,
            "classes": COCO_CLASSES,
            "back": reverse("admin:cameras_camera_change", args=[camera.pk]),
        }
        return TemplateResponse(request, "admin/cameras/camera/zones.html", context)

    def get_actions(self, request):
        # No bulk delete: a camera goes one at a time, its name typed (delete_view).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            camera = self.get_object(request, object_id)
            typed = request.POST.get("confirm_name", "").strip()
            if camera is not None and typed != camera.name:
                self.message_user(
                    request, f'Not deleted: type the camera\'s name, "{camera.name}", to confirm.', messages.ERROR
                )
                return HttpResponseRedirect(request.path)
        camera = self.get_object(request, object_id)
        # Recordings protect their camera: the page says to delete the footage first.
        extra_context = {**(extra_context or {}), "has_footage": camera is not None and camera.segments.exists()}
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description="credentials")
    def credentials_state(self, obj):
        if not (obj.pk and obj.has_credentials):
            return "None"
        if not credentials_readable(obj):
            return f"Set, but {MISMATCH}: provide the key they were encrypted with, or type them again."
        return "Set (hidden)"

    @admin.display(description="state", ordering="status__state")
    def state_badge(self, obj):
        status = obj.current_status
        colour = {"online": "#2e7d32", "offline": "#757575", "error": "#c62828"}[status.state]
        return format_html('<strong style="color:{}">{}</strong>', colour, status.get_state_display())

    @admin.display(description="state")
    def status_state(self, obj):
        return obj.current_status.get_state_display()

    @admin.display(description="last frame")
    def status_last_frame_at(self, obj):
        return obj.current_status.last_frame_at or "never"

    @admin.display(description="stream")
    def status_details(self, obj):
        status = obj.current_status
        parts = [status.codec.upper(), status.resolution, f"{status.fps:g} fps" if status.fps else ""]
        return " ".join(p for p in parts if p) or "unknown"

    @admin.display(description="last error")
    def status_last_error(self, obj):
        return obj.current_status.last_error or "none"

    @admin.display(description="resolution")
    def resolution(self, obj):
        return obj.current_status.resolution

    @admin.display(description="codec")
    def codec(self, obj):
        return obj.current_status.codec.upper()

    @admin.display(description="fps")
    def fps(self, obj):
        fps = obj.current_status.fps
        return f"{fps:g}" if fps else ""

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        streams = [(camera, which) for camera in queryset for which in ("main", "detect")]
        streams = [(camera, which) for camera, which in streams if which == "main" or camera.detect_url]
        # All at once: ten dead cameras cost one timeout, not ten. Probing is I/O-bound.
        with ThreadPoolExecutor(max_workers=min(8, len(streams) or 1)) as pool:
            results = pool.map(lambda item: self._probe(*item), streams)
            for (camera, which), result in zip(streams, results, strict=True):
                level = messages.SUCCESS if result.ok else messages.ERROR
                self.message_user(request, f"{camera.name} ({which} stream): {result.describe()}", level=level)

    def _probe(self, camera, which: str) -> ProbeResult:
        try:
            url = stream_url_for_worker(camera, which)
        except CredentialsUnreadable as e:
            return ProbeResult(ok=False, error=f"{e} (provide the key they were encrypted with, or type them again).")
        return probe_stream(url, timeout_s=self.probe_timeout_s)


@admin.register(DashboardLayout)
class DashboardLayoutAdmin(admin.ModelAdmin):
    list_display = ("name", "columns", "rows", "slot_count", "show_ai_overlay", "is_default")
    list_filter = ("is_default", "show_ai_overlay")
    search_fields = ("name",)
    form = DashboardLayoutAdminForm
    fields = ("name", "columns", "rows", "show_ai_overlay", "is_default")
    change_form_template = "admin/cameras/dashboardlayout/change_form.html"

    class Media:
        css = {"all": ("ainvr/layout_editor.css",)}
        js = ("ainvr/layout_editor.js",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        set_layout_tiles(form.instance, form.tiles())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("slots")

    @admin.display(description="slots used")
    def slot_count(self, obj):
        return f"{len(obj.slots.all())} / {obj.capacity}"
