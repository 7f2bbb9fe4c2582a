from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q

from cameras import secrets
from cameras.streams import validate_query_key, validate_stream_url
from cameras.zones import check_points
from core.labels import COCO_CLASSES, DEFAULT_CLASSES, validate_labels


def default_ai_classes() -> list[str]:
    return list(DEFAULT_CLASSES)


def default_alert_classes() -> list[str]:
    return ["person"]


def validate_ai_classes(value) -> None:
    try:
        validate_labels(value)
    except ValueError as e:
        raise ValidationError(str(e), code="classes") from None


class CameraQuerySet(models.QuerySet["Camera"]):
    def enabled(self) -> "CameraQuerySet":
        return self.filter(enabled=True)

    def with_status(self) -> "CameraQuerySet":
        return self.select_related("status")


class Camera(models.Model):
    """An IP camera. The username and password are write-only: no form, page or API
    response ever shows them; only the workers put them into the stream URL."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, help_text="Short name used in URLs and folder names.")
    stream_url = models.CharField(
        "main stream URL",
        max_length=500,
        validators=[validate_stream_url],
        help_text="Recorded as it comes, never re-encoded. rtsp://host:554/path (credentials go below).",
    )
    detect_url = models.CharField(
        "detect sub-stream URL",
        max_length=500,
        blank=True,
        validators=[validate_stream_url],
        help_text="A low-resolution sub-stream for detection; the main stream is used when empty.",
    )
    # Encrypted at rest (cameras.secrets): the columns hold Fernet tokens, never the plain
    # values; `username` and `password` below read and write them.
    encrypted_username = models.TextField(blank=True, db_column="username")
    encrypted_password = models.TextField(blank=True, db_column="password")
    username_key = models.CharField(
        "username query key",
        max_length=32,
        blank=True,
        validators=[validate_query_key],
        help_text="Empty: the URL is opened as rtsp://user:password@host/... Else the query key the camera "
        "reads the username from (e.g. user for ?user=...); set by itself when such a URL is saved.",
    )
    password_key = models.CharField(
        "password query key",
        max_length=32,
        blank=True,
        validators=[validate_query_key],
        help_text="Likewise for the password (e.g. password or pwd).",
    )
    enabled = models.BooleanField(default=True, db_index=True)

    recording_enabled = models.BooleanField("record", default=True)
    segment_seconds = models.PositiveIntegerField(
        "segment length (s)", default=10, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    retention_days = models.PositiveIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=(
            "Recordings and the objects detected in them older than this are deleted. "
            "The storage caps may delete recordings sooner."
        ),
    )

    ai_enabled = models.BooleanField("AI detection", default=True)
    ai_classes = models.JSONField(
        "object classes", default=default_ai_classes, validators=[validate_ai_classes], help_text="COCO-80 names."
    )
    # Empty: the model's calibrated threshold (core/model_scores.py), so a change of
    # model keeps its meaning.
    ai_confidence = models.FloatField(
        "event threshold",
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A tracked object is real (an event, a box on the live grid, an alert) when the median of its "
        "scores reaches this. Empty: the model's calibrated value.",
    )
    detect_fps = models.FloatField(
        "detection fps", default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(30.0)]
    )
    motion_gating = models.BooleanField(default=True, help_text="Run the detector only on frames with motion.")
    rotation = models.PositiveSmallIntegerField(
        "rotation",
        default=0,
        choices=[(0, "None"), (90, "90° clockwise"), (180, "180°"), (270, "90° counter-clockwise")],
        help_text="How far the picture must be turned to stand upright (a camera mounted on its side for a "
        "corridor). Detection and face recognition look at the turned picture; the video stays as the camera "
        "sends it, with the boxes in place.",
    )
    attendance_enabled = models.BooleanField("attendance", default=False, help_text="Recognise employees' faces.")
    alert_classes = models.JSONField(
        "alert on",
        default=default_alert_classes,
        validators=[validate_ai_classes],
        blank=True,
        help_text="Objects of these classes make an alert (in the camera's alert zones when it has some); "
        "other tracked objects are detections.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CameraQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def has_credentials(self) -> bool:
        return bool(self.encrypted_username or self.encrypted_password)

    # Plain credentials, decrypted on each read (raises cameras.secrets.CredentialsUnreadable
    # when the key does not match) and encrypted on each write. Server-side only.
    @property
    def username(self) -> str:
        return secrets.decrypt(self.encrypted_username)

    @username.setter
    def username(self, value: str) -> None:
        self.encrypted_username = secrets.encrypt(value or "")

    @property
    def password(self) -> str:
        return secrets.decrypt(self.encrypted_password)

    @password.setter
    def password(self, value: str) -> None:
        self.encrypted_password = secrets.encrypt(value or "")

    @property
    def current_status(self) -> "CameraStatus":
        """The status row, or an unsaved 'offline' one for a camera no worker has seen yet."""
        try:
            return self.status
        except CameraStatus.DoesNotExist:
            return CameraStatus(camera=self)


class ObjectFilter(models.Model):
    """Per-class rules of a camera, as NVR users tune them: boxes outside the size or shape
    range are dropped before tracking (a "person" the size of the frame is a shadow; one two
    pixels wide is a pole), and a class may have its own event threshold and frame count."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="object_filters")
    label = models.CharField("class", max_length=32, choices=[(c, c) for c in COCO_CLASSES])
    threshold = models.FloatField(
        "event threshold", null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Empty: the camera's.",
    )  # fmt: skip
    min_frames = models.PositiveSmallIntegerField(
        "minimum frames", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Frames a track needs before it is real. Empty: DETECTOR_MIN_FRAMES.",
    )  # fmt: skip
    min_area = models.FloatField(
        "minimum area (%)", default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="Of the frame.",
    )  # fmt: skip
    max_area = models.FloatField(
        "maximum area (%)", default=100.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)]
    )
    min_ratio = models.FloatField(
        "minimum width/height", default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="Box width over height in pixels (a standing person is about 0.4).",
    )  # fmt: skip
    max_ratio = models.FloatField(
        "maximum width/height", default=100.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)]
    )

    class Meta:
        ordering = ["camera", "label"]
        constraints = [models.UniqueConstraint(fields=["camera", "label"], name="one_filter_per_class_and_camera")]

    def __str__(self):
        return f"{self.label} on {self.camera}"

    def clean(self):
        errors = {}
        if self.min_area > self.max_area:
            errors["max_area"] = "Must be at least the minimum area."
        if self.min_ratio > self.max_ratio:
            errors["max_ratio"] = "Must be at least the minimum width/height."
        if errors:
            raise ValidationError(errors)


class ZoneKind(models.TextChoices):
    ZONE = "zone", "Zone"
    MOTION_MASK = "motion_mask", "Motion mask"
    OBJECT_MASK = "object_mask", "Object mask"


class Zone(models.Model):
    """A polygon drawn over a camera's picture, in normalised coordinates (0..1 of the
    width and height), so a change of resolution keeps it.

    A zone names an area (an object is in it when its box's bottom-centre is inside for
    ``min_frames`` frames in a row); a motion mask is ignored by the motion gate; an
    object mask drops the detections whose bottom-centre falls inside."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=ZoneKind.choices, default=ZoneKind.ZONE)
    points = models.JSONField(help_text="[[x, y], ...], each 0..1; 3 to 100 points, a simple polygon.")
    classes = models.JSONField(
        default=list, blank=True, validators=[validate_ai_classes], help_text="Zones only; empty: every class."
    )
    min_frames = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Zones only."
    )
    loiter_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Zones only: an object counts once it stayed this long."
    )
    alert = models.BooleanField(
        "alert zone", default=False, help_text="Zones only: alerts need the object to enter an alert zone."
    )

    class Meta:
        ordering = ["camera", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["camera", "name"], name="one_zone_name_per_camera")]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()}) on {self.camera}"

    def clean(self):
        super().clean()

        try:
            self.points = check_points(self.points)
        except ValidationError as e:
            raise ValidationError({"points": e.messages}) from None


class CameraState(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    ERROR = "error", "Error"


class CameraStatus(models.Model):
    """What the workers last saw of a camera.

    A table of its own so the workers' frequent writes never race an admin saving the
    camera's settings (a form save writes every column of its row).
    """

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, primary_key=True, related_name="status")
    state = models.CharField(max_length=16, choices=CameraState.choices, default=CameraState.OFFLINE)
    last_frame_at = models.DateTimeField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "camera statuses"

    def __str__(self):
        return f"{self.camera_id}: {self.state}"

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else ""


class DashboardLayout(models.Model):
    """A live grid: columns x rows tiles, each slot showing one camera."""

    name = models.CharField(max_length=100, unique=True)
    columns = models.PositiveSmallIntegerField(default=4, validators=[MinValueValidator(1), MaxValueValidator(4)])
    rows = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1), MaxValueValidator(4)])
    show_ai_overlay = models.BooleanField("show AI overlay", default=True)
    is_default = models.BooleanField("default layout", default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_layout"),
        ]

    def __str__(self):
        return f"{self.name} ({self.columns}x{self.rows})"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.is_default:
                DashboardLayout.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        # Choosing a new default is allowed: save() hands the flag over.
        super().validate_constraints(exclude={*(exclude or ()), "is_default"})

    @property
    def capacity(self) -> int:
        return self.columns * self.rows


class DashboardSlot(models.Model):
    layout = models.ForeignKey(DashboardLayout, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveSmallIntegerField(
        help_text="0 is the top-left tile; tiles count left to right, row by row."
    )
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="dashboard_slots")

    class Meta:
        ordering = ["layout", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layout", "position"], name="one_camera_per_slot"),
        ]

    def __str__(self):
        return f"{self.layout.name} #{self.position}: {self.camera.name}"

    def clean(self):
        # The admin's inline hands us the layout as edited (maybe unsaved, maybe resized).
        layout = getattr(self, "layout", None)
        if layout is not None and self.position is not None and self.position >= layout.capacity:
            raise ValidationError(
                {"position": f"The layout has {layout.capacity} tiles: use 0 to {layout.capacity - 1}."}
            )


class CameraLease(models.Model):
    """Which `runworkers` host records a camera. Several hosts may share one database:
    each claims free or expired leases with a conditional UPDATE and renews its own, so a
    camera is recorded by exactly one host, and a dead host's cameras move on once its
    leases expire. `instance` names the process of that host holding it (pipeline.cluster.hosts):
    a restarted process adopts its dead predecessor's leases at once."""

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, primary_key=True, related_name="lease")
    host = models.CharField(max_length=200, db_index=True)
    instance = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField()

    def __str__(self):
        return f"{self.camera_id} held by {self.host} until {self.expires_at:%H:%M:%S}"


class WorkerHost(models.Model):
    """A `runworkers` host (WORKER_HOST_ID) and the process that is it now. Live while its
    heartbeat is younger than WORKER_LEASE_SECONDS; hosts share the cameras by these rows."""

    host = models.CharField(max_length=200, primary_key=True)
    instance = models.CharField(max_length=64)
    machine = models.CharField(max_length=200, help_text="The kernel's boot id: tells this machine from another.")
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.host} (pid {self.pid}, beat {self.heartbeat_at:%H:%M:%S})"


class TaskLease(models.Model):
    """A periodic task shared by the worker hosts (retention, purges): one host runs it at
    a time (`running_until`), once per interval over all hosts (`due_at`)."""

    name = models.CharField(max_length=200, primary_key=True)
    host = models.CharField(max_length=200, blank=True, default="")
    instance = models.CharField(max_length=64, blank=True, default="")
    due_at = models.DateTimeField()
    running_until = models.DateTimeField()

    def __str__(self):
        return f"{self.name} (last {self.host or 'nobody'}, due {self.due_at:%H:%M:%S})"
