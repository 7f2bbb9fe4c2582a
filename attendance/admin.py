from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from attendance.enrolment import (
    fail_stalled_enrolments,
    open_slots,
    request_camera_enrolment,
    request_upload_enrolments,
    retry_enrolment,
)
from attendance.forms import CaptureFaceForm, UploadFacesForm
from attendance.models import (
    AlertLog,
    AttendanceEvent,
    DailyAttendance,
    Employee,
    FaceEnrolment,
    FaceTemplate,
    Presence,
)


class FaceTemplateInline(admin.TabularInline):
    model = FaceTemplate
    fields = ("model_name", "dimension", "quality", "created_at")
    readonly_fields = ("model_name", "dimension", "quality", "created_at")
    extra = 0

    def has_add_permission(self, request, obj=None):
        # A template needs its embedding: photos are added on the face photos page, whose
        # job runs the face model and the quality gates.
        return False


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "active", "template_count", "presence_state")
    list_filter = ("active", "department")
    search_fields = ("code", "name", "department")
    fieldsets = (
        (None, {"fields": ("code", "name")}),
        ("Work", {"fields": ("department", "active")}),
        ("Face photos", {"fields": ("face_photos",)}),
    )
    readonly_fields = ("face_photos",)
    inlines = [FaceTemplateInline]

    @admin.display(description="enrolment")
    def face_photos(self, obj):
        if obj is None or obj.pk is None:
            return "Save the employee first, then add face photos."
        url = reverse("admin:attendance_employee_faces", args=[obj.pk])
        return format_html('<a class="button" href="{}">Add or review face photos</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:employee_id>/faces/",
                self.admin_site.admin_view(self.faces_view),
                name="attendance_employee_faces",
            ),
            path(
                "<int:employee_id>/faces/<int:enrolment_id>/photo/",
                self.admin_site.admin_view(self.face_photo_view),
                name="attendance_employee_face_photo",
            ),
            *super().get_urls(),
        ]

    def faces_view(self, request, employee_id):
        """Add 1-5 face photos by upload or by capturing a camera's current frame; shows
        each request's outcome (accepted, or refused with its reason)."""
        employee = get_object_or_404(Employee, pk=employee_id)
        if not self.has_change_permission(request, employee):
            raise PermissionDenied
        upload_form, capture_form = UploadFacesForm(), CaptureFaceForm()
        status = 200
        if request.method == "POST":
            try:
                if "retry" in request.POST:
                    return self._retry(request, employee, request.POST["retry"])
                if "capture" in request.POST:
                    capture_form = CaptureFaceForm(request.POST)
                    if capture_form.is_valid():
                        request_camera_enrolment(employee, capture_form.cleaned_data["camera"])
                        messages.success(request, "Capturing a frame: the result appears below in a few seconds.")
                        return redirect(request.path)
                else:
                    upload_form = UploadFacesForm(request.POST, request.FILES)
                    if upload_form.is_valid():
                        created = request_upload_enrolments(employee, upload_form.cleaned_data["photos"])
                        messages.success(request, f"{len(created)} photo(s) queued: results appear below.")
                        return redirect(request.path)
            except ValidationError as e:
                form = capture_form if "capture" in request.POST else upload_form
                for field, errors in e.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            status = 400  # the form again, with what was wrong
        else:
            # Those whose job died say so here, even when no worker supervisor runs the check.
            fail_stalled_enrolments(now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Face photos of {employee.name}",
            "opts": self.model._meta,
            "original": employee,
            "employee": employee,
            "upload_form": upload_form,
            "capture_form": capture_form,
            "open_slots": open_slots(employee),
            "templates": employee.face_templates.all(),
            "enrolments": employee.enrolments.select_related("camera")[:20],
            "pending": employee.enrolments.filter(status="pending").exists(),
        }
        return TemplateResponse(request, "attendance/admin_faces.html", context, status=status)

    def _retry(self, request, employee, enrolment_id: str):
        enrolment = get_object_or_404(FaceEnrolment, pk=_int_or_404(enrolment_id), employee=employee)
        try:
            retry_enrolment(enrolment)
        except ValidationError as e:
            for error in e.messages:
                messages.error(request, error)
        else:
            messages.success(request, "Trying that photo again: the result appears below.")
        return redirect(request.path)

    def face_photo_view(self, request, employee_id, enrolment_id):
        """A stored face photo, to admins only (media is never served publicly)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        enrolment = get_object_or_404(FaceEnrolment, pk=enrolment_id, employee_id=employee_id)
        if not enrolment.photo:
            raise Http404("no photo")
        try:
            return FileResponse(enrolment.photo.open("rb"))
        except OSError:
            raise Http404("photo missing") from None

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
    # The snapshot is shown through the admins-only view, never as a MEDIA_URL link.
    fields = ("time", "kind", "employee", "camera", "similarity", "snapshot_image")
    readonly_fields = ("snapshot_image",)

    @admin.display(description="snapshot")
    def snapshot_image(self, obj):
        if obj is None or not obj.snapshot:
            return "-"
        url = reverse("recordings:private_media", args=[obj.snapshot.name])
        return format_html('<a href="{}"><img src="{}" alt="Snapshot" height="160"></a>', url, url)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404("No such photo.") from None


@admin.register(AlertLog)
class AlertLogAdmin(admin.ModelAdmin):
    list_display = ("started", "kind", "employee", "camera", "resolved", "message")
    list_filter = ("kind", "camera")
    date_hierarchy = "started"
    search_fields = ("employee__name", "employee__code", "message")
    list_select_related = ("employee", "camera")
