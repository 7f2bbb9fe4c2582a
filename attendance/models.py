from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cameras.models import Camera
from core.media import random_name


def face_photo_path(instance, filename: str) -> str:
    """faces/YYYY/MM/<random>.<ext>: admins only (core.media), and not guessable from an id."""
    return random_name("faces", filename)


def snapshot_path(instance, filename: str) -> str:
    """attendance/YYYY/MM/<random>.jpg: admins only (core.media), and not guessable."""
    return random_name("attendance", filename)


class Employee(models.Model):
    code = models.CharField("employee code", max_length=32, unique=True)
    name = models.CharField(max_length=150)
    department = models.CharField(max_length=100, blank=True, db_index=True)
    active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class FaceTemplate(models.Model):
    """One enrolled face photo and its embedding (float32 bytes of `dimension` values)
    from the face model named in `model_name`; `manage.py reembed` rebuilds them."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="face_templates")
    photo = models.ImageField(upload_to=face_photo_path)
    embedding = models.BinaryField(editable=False)
    model_name = models.CharField(max_length=64, db_index=True)
    dimension = models.PositiveSmallIntegerField()
    quality = models.FloatField(default=0.0, help_text="Quality score of the face in the photo.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["employee", "created_at"]

    def __str__(self):
        return f"Face of {self.employee} ({self.model_name})"


class PresenceState(models.TextChoices):
    AVAILABLE = "available", "Available"
    OFF = "off", "Off"


class Presence(models.Model):
    """Where an employee is now: available while seen, off once unseen for the absence threshold."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, primary_key=True, related_name="presence")
    state = models.CharField(max_length=16, choices=PresenceState.choices, default=PresenceState.OFF)
    since = models.DateTimeField(null=True, blank=True, help_text="When the current state began.")
    last_seen = models.DateTimeField(null=True, blank=True)
    last_camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "presence"

    def __str__(self):
        return f"{self.employee}: {self.state}"


class DailyAttendance(models.Model):
    """First in and last out of an employee on one day, in the configured time zone."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="attendance_days")
    date = models.DateField()
    first_in = models.DateTimeField()
    last_out = models.DateTimeField()

    class Meta:
        ordering = ["-date", "employee"]
        verbose_name_plural = "daily attendance"
        constraints = [
            models.UniqueConstraint(fields=["employee", "date"], name="one_attendance_per_employee_day"),
            models.CheckConstraint(condition=Q(last_out__gte=F("first_in")), name="attendance_out_after_in"),
        ]
        indexes = [models.Index(fields=["date"], name="attendance_date")]

    def __str__(self):
        return f"{self.employee} on {self.date}"


class EventKind(models.TextChoices):
    ARRIVED = "arrived", "Arrived"
    SIGHTING = "sighting", "Sighting"
    UNKNOWN = "unknown", "Unknown face"


class AttendanceEvent(models.Model):
    """A face seen by a camera, rate-limited (a sighting every few seconds, not every frame)."""

    employee = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.CASCADE, related_name="events", help_text="Empty: unknown."
    )
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    time = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    similarity = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)])
    snapshot = models.ImageField(upload_to=snapshot_path, blank=True)

    class Meta:
        ordering = ["-time"]
        indexes = [
            models.Index(fields=["time"], name="attevent_time"),
            models.Index(fields=["employee", "time"], name="attevent_employee_time"),
        ]

    def __str__(self):
        who = self.employee or "unknown"
        return f"{who} {self.kind} at {self.time:%Y-%m-%d %H:%M:%S}"


class AlertKind(models.TextChoices):
    ABSENCE = "absence", "Absence"


class AlertLog(models.Model):
    """An alert about an employee, e.g. away longer than the threshold; resolved on return."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="alerts")
    camera = models.ForeignKey(
        Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Where last seen."
    )
    kind = models.CharField(max_length=16, choices=AlertKind.choices, default=AlertKind.ABSENCE)
    started = models.DateTimeField()
    resolved = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started"]
        indexes = [
            models.Index(fields=["started"], name="alertlog_started"),
            models.Index(fields=["employee", "resolved"], name="alertlog_employee_open"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.employee} at {self.started:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.resolved is None


MAX_FACES_PER_EMPLOYEE = 5


class EnrolmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class FaceEnrolment(models.Model):
    """A request to enrol one face photo (uploaded, or grabbed from a camera by the job).

    The web process only stores it; an RQ job runs the face model, the quality gates and,
    when the photo passes, creates the FaceTemplate. `reason` says why a photo was refused,
    or why the job failed (a failed one can be retried)."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="enrolments")
    photo = models.ImageField(upload_to=face_photo_path, blank=True)
    camera = models.ForeignKey(
        Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Captured from."
    )
    status = models.CharField(max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    template = models.OneToOneField(
        FaceTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrolment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a job took it up.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Face photo for {self.employee}: {self.get_status_display()}"
