from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

from cameras.models import Camera
from detection.labels import validate_labels


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    WEBPUSH = "webpush", "Web push"


class AttendanceTrigger(models.TextChoices):
    ABSENCE_ALERT = "absence_alert", "Absence alert"
    ALERT_RESOLVED = "alert_resolved", "Alert resolved"
    UNKNOWN_FACE = "unknown_face", "Unknown face"
    EMPLOYEE_ARRIVED = "employee_arrived", "Employee arrived"


def email_list(value: str) -> list[str]:
    return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]


class Channel(models.Model):
    """Where a notification goes. The webhook secret is write-only, like camera passwords."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    enabled = models.BooleanField(default=True)
    email_to = models.TextField("email recipients", blank=True, help_text="Addresses separated by commas.")
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True, help_text="Signs each POST (HMAC-SHA256).")
    failing = models.BooleanField(default=False, help_text="Set after repeated failures; delivery pauses.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self):
        if self.kind == ChannelKind.EMAIL:
            addresses = email_list(self.email_to)
            if not addresses:
                raise ValidationError({"email_to": "Give at least one address."})
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    raise ValidationError({"email_to": f"{address!r} is not an email address."}) from None
        elif self.kind == ChannelKind.WEBHOOK and not self.webhook_url:
            raise ValidationError({"webhook_url": "A webhook needs a URL."})


def validate_trigger_labels(value) -> None:
    try:
        validate_labels(value)
    except ValueError as e:
        raise ValidationError(str(e)) from None


def validate_trigger_kinds(value) -> None:
    if not isinstance(value, list) or not all(v in AttendanceTrigger.values for v in value):
        raise ValidationError(f"Use a list of: {', '.join(AttendanceTrigger.values)}.")


def validate_weekdays(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and 0 <= v <= 6 for v in value):
        raise ValidationError("Use a list of weekdays, 0 = Monday to 6 = Sunday.")


def all_weekdays() -> list[int]:
    return list(range(7))


class Rule(models.Model):
    """When to notify: which cameras (none = all), which object classes and/or attendance
    events, how confident, at what times, how often at most, and through which channels."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    cameras = models.ManyToManyField(Camera, blank=True, related_name="+", help_text="None selected: all cameras.")
    labels = models.JSONField(
        "object classes", default=list, blank=True, validators=[validate_trigger_labels], help_text="COCO-80 names."
    )
    attendance_kinds = models.JSONField(
        "attendance events", default=list, blank=True, validators=[validate_trigger_kinds]
    )
    min_confidence = models.FloatField(default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    weekdays = models.JSONField(default=all_weekdays, validators=[validate_weekdays], help_text="0 = Monday.")
    active_from = models.TimeField(null=True, blank=True, help_text="Empty with 'until' empty: all day.")
    active_until = models.TimeField(
        null=True, blank=True, help_text="May be before 'from' for a window across midnight."
    )
    cooldown_seconds = models.PositiveIntegerField(
        default=300, help_text="Per camera: at most one notification per this many seconds."
    )
    channels = models.ManyToManyField(Channel, related_name="rules")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.labels and not self.attendance_kinds:
            raise ValidationError("Choose object classes, attendance events, or both.")
        if (self.active_from is None) != (self.active_until is None):
            raise ValidationError({"active_until": "Give both ends of the time window, or neither."})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification to one channel, with every attempt counted and its last error kept."""

    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "created_at"], name="delivery_status_created"),
            models.Index(fields=["rule", "camera", "created_at"], name="delivery_cooldown"),
        ]

    def __str__(self):
        return f"{self.channel} {self.status} ({self.created_at:%Y-%m-%d %H:%M})"
