from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cameras.models import Camera, CameraStatus, DashboardLayout, DashboardSlot, Zone
from cameras.services import UNCHANGED, save_camera, save_zone
from cameras.zones import MAX_POINTS, MIN_POINTS, check_points
from core.api.fields import SlugLookupField
from core.labels import COCO_CLASSES

PUBLIC_FIELDS: tuple[str, ...] = (
    "id", "name", "slug", "enabled", "recording_enabled", "segment_seconds", "retention_days",
    "ai_enabled", "ai_classes", "ai_confidence", "detect_fps", "motion_gating", "rotation", "attendance_enabled",
    "status",
)  # fmt: skip


class CameraStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = CameraStatus
        fields = ("state", "last_frame_at", "fps", "width", "height", "codec", "last_error", "updated_at")
        read_only_fields = fields


class CameraSerializer(serializers.ModelSerializer):
    """What operators see: no stream URLs, no credentials."""

    status = CameraStatusSerializer(source="current_status", read_only=True)

    class Meta:
        model = Camera
        fields = PUBLIC_FIELDS
        read_only_fields = fields


class CameraDocumentedSerializer(CameraSerializer):
    """The camera as the API documents it in answers: operators' fields, plus the ones
    only admins receive (absent from operators' answers)."""

    stream_url = serializers.CharField(required=False, help_text="Admins only.")
    detect_url = serializers.CharField(required=False, help_text="Admins only.")
    has_credentials = serializers.BooleanField(required=False, help_text="Admins only.")
    username_key = serializers.CharField(required=False, help_text="Admins only.")
    password_key = serializers.CharField(required=False, help_text="Admins only.")

    class Meta(CameraSerializer.Meta):
        fields: tuple[str, ...] = (
            *PUBLIC_FIELDS,
            "stream_url",
            "detect_url",
            "has_credentials",
            "username_key",
            "password_key",
        )
        read_only_fields = PUBLIC_FIELDS


class CameraAdminSerializer(serializers.ModelSerializer):
    """What admins read and write. `username` and `password` are write-only: omit them to
    keep the stored values, send "" to clear them. Credentials typed into a URL, as
    user:pass@ or as query keys (?user=..&password=..), are moved out of it into these
    fields (stored encrypted); `username_key`/`password_key` name the query keys the camera
    takes them in ("" for user:pass@)."""

    status = CameraStatusSerializer(source="current_status", read_only=True)
    username = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128)
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=256, style={"input_type": "password"}
    )
    has_credentials = serializers.BooleanField(read_only=True)

    class Meta:
        model = Camera
        fields = (
            *PUBLIC_FIELDS, "stream_url", "detect_url", "username", "password", "has_credentials", "username_key",
            "password_key",
        )  # fmt: skip
        read_only_fields = ("id", "status", "has_credentials")

    def _save(self, camera, validated_data):
        username = validated_data.pop("username", UNCHANGED)
        password = validated_data.pop("password", UNCHANGED)
        for name, value in validated_data.items():
            setattr(camera, name, value)
        return save_camera(camera, username=username, password=password)

    def create(self, validated_data):
        return self._save(Camera(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class DashboardSlotSerializer(serializers.ModelSerializer):
    camera: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = DashboardSlot
        fields = ("position", "camera")


class DashboardLayoutSerializer(serializers.ModelSerializer):
    slots = DashboardSlotSerializer(many=True, read_only=True)

    class Meta:
        model = DashboardLayout
        fields = ("id", "name", "columns", "rows", "show_ai_overlay", "is_default", "slots")
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "array",
        "minItems": MIN_POINTS,
        "maxItems": MAX_POINTS,
        "items": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "description": "[[x, y], ...] normalised to the picture; the outline must not cross itself.",
    }
)
class OutlineField(serializers.JSONField):
    """A zone's outline (cameras.zones.check_points says what else it must be)."""


class ZoneSerializer(serializers.ModelSerializer):
    """A zone or mask of a camera: `points` [[x, y], ...] normalised to the picture (0..1),
    3 to 100 of them, an outline that does not cross itself."""

    camera = SlugLookupField(slug_field="slug", queryset=Camera.objects.all())
    points = OutlineField()
    classes = serializers.ListField(
        child=serializers.ChoiceField(choices=COCO_CLASSES), required=False, help_text="Zones only; empty: every class."
    )

    class Meta:
        model = Zone
        fields = ("id", "camera", "name", "kind", "points", "classes", "min_frames", "loiter_seconds", "alert")

    def validate_points(self, value):
        try:
            return check_points(value)
        except ValidationError as e:
            raise serializers.ValidationError(e.messages) from None

    def create(self, validated_data):
        return save_zone(Zone(**validated_data))

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return save_zone(instance)
