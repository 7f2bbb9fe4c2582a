from typing import Any

from rest_framework import serializers, viewsets

from core.api.filters import TextFilter, TimeRangeFilterSet
from recordings.models import Segment


class SegmentSerializer(serializers.ModelSerializer):
    camera: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Segment
        fields = ("id", "camera", "start", "end", "duration", "path", "size_bytes", "codec", "width", "height")
        read_only_fields = fields


class SegmentFilter(TimeRangeFilterSet):
    camera = TextFilter(field_name="camera__slug", help_text="Camera slug.")

    class Meta(TimeRangeFilterSet.Meta):
        model = Segment
        fields = ("camera", "start", "end")


class SegmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Recorded segments, oldest first; filter by camera and time range."""

    lookup_value_regex = "[0-9]+"

    queryset = Segment.objects.select_related("camera").order_by("start", "id")
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilter
