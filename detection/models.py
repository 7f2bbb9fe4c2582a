from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cameras.models import Camera, default_ai_classes, validate_ai_classes


def validate_box(value) -> None:
    """A normalised box: [x1, y1, x2, y2], each in 0..1, x1 <= x2 and y1 <= y2."""
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 4
        and all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in value)
        and value[0] <= value[2]
        and value[1] <= value[3]
    )
    if not ok:
        raise ValidationError("A box is [x1, y1, x2, y2] with each value between 0 and 1.", code="box")


class Source(models.TextChoices):
    LIVE = "live", "Live"
    ANALYSIS = "analysis", "Analysis"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class AnalysisJob(models.Model):
    """Detection run over a time range of a camera's recordings (an RQ job)."""

    ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="analysis_jobs")
    start = models.DateTimeField()
    end = models.DateTimeField()
    classes = models.JSONField(default=default_ai_classes, validators=[validate_ai_classes])
    confidence = models.FloatField(default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    sample_fps = models.FloatField(
        "sampling rate (fps)", default=2.0, validators=[MinValueValidator(0.1), MaxValueValidator(30.0)]
    )
    annotate = models.BooleanField("make an annotated video", default=True)

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0 to 1.")
    report = models.JSONField(default=dict, blank=True)
    annotated_video = models.CharField(max_length=500, blank=True, help_text="Relative to the media folder.")
    error = models.TextField(blank=True)
    rq_job_id = models.CharField(max_length=64, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="analysis_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the process running it last saved its progress."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="analysis_end_after_start")]

    def __str__(self):
        return f"Analysis #{self.pk} of {self.camera} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class ObjectEventQuerySet(models.QuerySet["ObjectEvent"]):
    def between(self, start: datetime, end: datetime) -> ObjectEventQuerySet:
        """Events that were going on at some moment between start and end."""
        return self.filter(start__lt=end).filter(Q(end__gt=start) | Q(end__isnull=True))


class ObjectEvent(models.Model):
    """One tracked object: from the first frame it was seen to the last, with its best
    sighting. A person standing still for an hour is one row, not thousands."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="object_events")
    label = models.CharField(max_length=32)
    confidence = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    box = models.JSONField(validators=[validate_box], help_text="Best sighting: [x1, y1, x2, y2], normalised.")
    track_id = models.BigIntegerField(null=True, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True, help_text="Empty while the object is still in view.")
    snapshot = models.FileField(upload_to="snapshots/%Y/%m/%d", blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.LIVE)
    job = models.ForeignKey(AnalysisJob, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    zones = models.JSONField(default=list, blank=True, help_text="Names of the camera's zones the object entered.")
    path = models.JSONField(
        default=list,
        blank=True,
        help_text="Where it went: [[seconds from start, x1, y1, x2, y2], ...], normalised boxes (live events).",
    )
    review_item = models.ForeignKey(
        "ReviewItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ObjectEventQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        indexes = [
            models.Index(fields=["camera", "start"], name="objevent_camera_start"),
            models.Index(fields=["label", "start"], name="objevent_label_start"),
            models.Index(fields=["start"], name="objevent_start"),
        ]

    def __str__(self):
        return f"{self.label} on {self.camera} at {self.start:%Y-%m-%d %H:%M:%S}"


class Severity(models.TextChoices):
    ALERT = "alert", "Alert"
    DETECTION = "detection", "Detection"


class ReviewItem(models.Model):
    """What an operator reviews: the objects one camera saw together, in one span of time (an
    object starting within REVIEW_GAP of the span's end joins it). An **alert** when one of its
    objects matches the camera's alert settings (its classes, in one of its alert zones when it
    has some), a **detection** otherwise; an item only ever goes from detection to alert."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="review_items")
    start = models.DateTimeField()
    end = models.DateTimeField(help_text="The last sighting of its objects so far.")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.DETECTION)
    labels = models.JSONField(default=list, blank=True)
    zones = models.JSONField(default=list, blank=True)
    # The event whose snapshot stands for the item: its best sighting.
    thumbnail = models.ForeignKey(ObjectEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["camera", "start"], name="review_camera_start"),
            models.Index(fields=["severity", "start"], name="review_severity_start"),
        ]

    def __str__(self):
        return f"{self.get_severity_display()} on {self.camera} at {self.start:%Y-%m-%d %H:%M:%S}"


class ReviewMark(models.Model):
    """A user marked an item reviewed: each user has their own unreviewed alerts."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="marks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_marks")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="one_review_mark_per_user")]

    def __str__(self):
        return f"{self.item} reviewed by {self.user}"
