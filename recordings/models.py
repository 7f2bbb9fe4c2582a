from datetime import datetime

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from cameras.models import Camera


class SegmentQuerySet(models.QuerySet["Segment"]):
    def overlapping(self, start: datetime, end: datetime) -> "SegmentQuerySet":
        """Segments with any footage between start and end."""
        return self.filter(start__lt=end, end__gt=start)


class Segment(models.Model):
    """One closed MP4 file of a camera's recording.

    The row is written when the file is closed; the path is relative to RECORDINGS_DIR.
    Deleting a camera that still has recordings is refused: footage is evidence, and its
    rows and files go only through retention.
    """

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="segments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration = models.FloatField(help_text="Seconds.")
    path = models.CharField(max_length=500, unique=True)
    size_bytes = models.BigIntegerField(default=0)
    codec = models.CharField(max_length=32, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["camera", "start"]
        indexes = [
            models.Index(fields=["camera", "start"], name="segment_camera_start"),
            models.Index(fields=["start"], name="segment_start"),  # retention: oldest first across cameras
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="segment_end_after_start"),
        ]

    def __str__(self):
        return self.path


class StorageSettings(models.Model):
    """How much disk recordings may use: the global caps that retention enforces,
    deleting the oldest footage across all cameras first. One row."""

    max_total_gb = models.FloatField(
        "total size cap (GB)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1)],
        help_text="Empty: no cap on the total size of recordings.",
    )
    min_free_gb = models.FloatField(
        "minimum free disk (GB)",
        null=True,
        blank=True,
        default=2.0,
        validators=[MinValueValidator(0.0)],
        help_text="Oldest recordings are deleted to keep this much space free. Empty: no minimum.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "storage settings"

    def __str__(self):
        return "Storage settings"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "StorageSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
