from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

from cameras.models import Camera
from core.labels import validate_labels


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    WEBPUSH = "webpush", "Web push"


class AttendanceTrigger(models.TextChoices):
    """The `kind` values of notifications.services.notify_attendance_event."""

    ABSENCE_ALERT = "absence", "Absence alert"
    ALERT_RESOLVED = "resolved", "Alert resolved"
    UNKNOWN_FACE = "unknown_face", "Unknown face"
    EMPLOYEE_ARRIVED = "arrived", "Employee arrived"


# Attendance names people: its notifications reach admins only, whatever the channel says.
ADMIN_ONLY_EVENTS = frozenset(AttendanceTrigger.values)


class HealthTrigger(models.TextChoices):
    """Trouble with the system itself, found by notifications.health (runworkers)."""

    CAMERA_OFFLINE = "camera_offline", "Camera offline"
    STORAGE_LOW = "storage_low", "Storage running out"
    STAGE_DOWN = "stage_down", "Detector or face recognition down"


# The event sent when a trouble ends, after its "down" notification was sent.
HEALTH_RECOVERY: dict[str, str] = {
    HealthTrigger.CAMERA_OFFLINE: "camera_online",
    HealthTrigger.STORAGE_LOW: "storage_ok",
    HealthTrigger.STAGE_DOWN: "stage_up",
}


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
    push_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name="push to",
        help_text="Web push: these users' subscribed browsers. None selected: every user with a role.",
    )
    failing = models.BooleanField(
        default=False,
        help_text="Set after repeated failures: new notifications are held until a test notification "
        "gets through or the channel is resumed.",
    )
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


def validate_health_kinds(value) -> None:
    if not isinstance(value, list) or not all(v in HealthTrigger.values for v in value):
        raise ValidationError(f"Use a list of: {', '.join(HealthTrigger.values)}.")


def validate_weekdays(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and 0 <= v <= 6 for v in value):
        raise ValidationError("Use a list of weekdays, 0 = Monday to 6 = Sunday.")


def all_weekdays() -> list[int]:
    return list(range(7))


class Rule(models.Model):
    """When to notify: which cameras (none = all), which object classes, attendance events
    and/or health alerts, how confident, at what times, how often at most, and through which
    channels."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    cameras = models.ManyToManyField(Camera, blank=True, related_name="+", help_text="None selected: all cameras.")
    labels = models.JSONField(
        "object classes", default=list, blank=True, validators=[validate_trigger_labels], help_text="COCO-80 names."
    )
    attendance_kinds = models.JSONField(
        "attendance events", default=list, blank=True, validators=[validate_trigger_kinds]
    )
    health_kinds = models.JSONField(
        "health alerts", default=list, blank=True, validators=[validate_health_kinds],
        help_text="Trouble with the system: cameras offline (chosen cameras only, none: all), storage, "
        "the detector or face recognition processes.",
    )  # fmt: skip
    health_after_seconds = models.PositiveIntegerField(
        "alert after (s)", default=60, validators=[MaxValueValidator(7 * 86_400)],
        help_text="Health alerts: the trouble must last this long first (a camera offline for more than this).",
    )  # fmt: skip
    notify_recovery = models.BooleanField(
        "tell when it is fixed", default=True,
        help_text="Health alerts: one 'back' notification after each 'down' one that was sent.",
    )  # fmt: skip
    min_confidence = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Objects are real already (the camera's event threshold decides); above 0, only the surest "
        "ones notify. Scores differ between models.",
    )  # fmt: skip
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
        if not self.labels and not self.attendance_kinds and not self.health_kinds:
            raise ValidationError("Choose object classes, attendance events or health alerts.")
        if (self.active_from is None) != (self.active_until is None):
            raise ValidationError({"active_until": "Give both ends of the time window, or neither."})
        if self.active_from is not None and self.active_from == self.active_until:
            raise ValidationError({"active_until": "The window ends when it starts; leave both empty for all day."})
        if not self.weekdays:
            raise ValidationError({"weekdays": "Tick at least one day."})


class RuleCooldown(models.Model):
    """When a rule last notified about one camera and subject (an employee for attendance
    events, empty for objects). Claimed with a conditional UPDATE, so two processes seeing
    the same thing at once notify once."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    camera_key = models.BigIntegerField(help_text="The camera's id; 0 for events without a camera.")
    subject = models.CharField(max_length=64, blank=True)
    last_sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "camera_key", "subject"], name="one_cooldown_per_rule_camera")
        ]

    def __str__(self):
        return f"{self.rule} on camera {self.camera_key} {self.subject}".strip()


class HealthCondition(models.Model):
    """A trouble notifications.health sees now (a camera offline, a disk filling, a stage
    down), from when it began. Deleted when it ends: its alerts then send their "back"."""

    subject = models.CharField(max_length=200, unique=True, help_text='"camera:12", "disk:recordings", …')
    kind = models.CharField(max_length=32, choices=HealthTrigger.choices)
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200, help_text="What is in trouble, for the notification.")
    detail = models.TextField(blank=True)
    since = models.DateTimeField()

    class Meta:
        ordering = ["since"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


class HealthAlert(models.Model):
    """A rule's "down" notification sent about a subject, whose "back" is still due.
    Unique per rule and subject: one "back" after one "down", however many processes look."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=HealthTrigger.choices)
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "subject"], name="one_health_alert_per_rule_subject")]

    def __str__(self):
        return f"{self.rule}: {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    HELD = "held", "Held (channel failing)"


class Delivery(models.Model):
    """One notification to one channel, with every attempt counted and its last error kept."""

    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    is_test = models.BooleanField(default=False, help_text="Sent by the 'send test notification' action.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    snapshot = models.FileField(upload_to="notifications/%Y/%m/%d", blank=True, max_length=300)
    done_targets = models.JSONField(
        default=list, blank=True, help_text="Web push: subscriptions already reached, not pushed again on a retry."
    )
    rq_job_id = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it until then; another may take over after."
    )
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


class DeliveryAttempt(models.Model):
    """One try at sending a delivery, and what went wrong."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"Attempt {self.number} of delivery {self.delivery_id}"


class PushSubscription(models.Model):
    """One browser of one user that accepted web push notifications. The endpoint names the
    browser: subscribing again from it replaces the row (and its owner, after a change of user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField("browser public key", max_length=200)
    auth = models.CharField("auth secret", max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]

    def __str__(self):
        return f"{self.user} on {self.user_agent[:40] or 'a browser'}"

    def info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class VapidKey(models.Model):
    """The server's web push key pair (one row, made by `manage.py vapid`). The private key
    never leaves the server: no page, admin or API shows it. Kept in the database so every
    host running a job worker signs with the same key."""

    private_pem = models.TextField(editable=False)
    public_key = models.CharField(max_length=120, editable=False, help_text="Base64url, uncompressed P-256 point.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"VAPID key {self.public_key[:12]}…"
