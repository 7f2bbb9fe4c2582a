from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsAdminOrOperator
from cameras.models import Camera
from core.api.fields import MomentField, SlugLookupField
from core.api.filters import ChoiceFilter, FractionFilter, IdFilter, TextFilter, TimeRangeFilterSet
from core.labels import COCO_CLASSES, validate_labels
from detection.analysis.services import JobFinished, cancel_analysis_job, create_analysis_job
from detection.models import AnalysisJob, ObjectEvent, Source


class ObjectEventSerializer(serializers.ModelSerializer):
    camera: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    has_snapshot = serializers.SerializerMethodField()

    class Meta:
        model = ObjectEvent
        fields = (
            "id", "camera", "label", "confidence", "box", "track_id", "start", "end",
            "has_snapshot", "source", "job",
        )  # fmt: skip
        read_only_fields = fields

    def get_has_snapshot(self, event) -> bool:
        return bool(event.snapshot)


class ObjectEventFilter(TimeRangeFilterSet):
    camera = TextFilter(field_name="camera__slug", help_text="Camera slug.")
    label = filters.MultipleChoiceFilter(choices=[(c, c) for c in COCO_CLASSES], help_text="Repeat for several.")
    source = ChoiceFilter(choices=Source.choices)
    min_confidence = FractionFilter(field_name="confidence", lookup_expr="gte", help_text="From 0 to 1.")
    job = IdFilter(field_name="job_id", help_text="The analysis job's id (live detections have none).")

    class Meta(TimeRangeFilterSet.Meta):
        model = ObjectEvent
        fields = ("camera", "label", "source", "job", "min_confidence", "start", "end")


class ObjectEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Detections: one event per tracked object, newest first."""

    lookup_value_regex = "[0-9]+"

    queryset = ObjectEvent.objects.select_related("camera").order_by("-start", "-id")
    serializer_class = ObjectEventSerializer
    filterset_class = ObjectEventFilter


class AnalysisJobSerializer(serializers.ModelSerializer):
    camera: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = AnalysisJob
        fields = (
            "id", "camera", "start", "end", "classes", "confidence", "sample_fps", "annotate",
            "status", "progress", "report", "error", "requested_by", "created_at", "started_at", "finished_at",
        )  # fmt: skip
        read_only_fields = fields


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(COCO_CLASSES)}, "minItems": 1})
class ClassesField(serializers.ListField):
    """COCO-80 class names (validate_labels), as the schema states them."""


class AnalysisJobCreateSerializer(serializers.Serializer):
    camera = SlugLookupField(slug_field="slug", queryset=Camera.objects.all())
    start = MomentField()
    end = MomentField()
    classes = ClassesField(child=serializers.CharField(), required=False, allow_empty=False)
    confidence = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    sample_fps = serializers.FloatField(min_value=0.1, max_value=30.0, required=False)
    annotate = serializers.BooleanField(required=False)

    def validate_classes(self, value):
        try:
            return validate_labels(value)
        except ValueError as e:
            raise serializers.ValidationError(str(e)) from None


class AnalysisJobViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """AI analysis jobs: detection over a time range of recordings. Operators and admins
    create, follow and cancel them."""

    queryset = AnalysisJob.objects.select_related("camera", "requested_by")
    lookup_value_regex = "[0-9]+"
    permission_classes = [IsAdminOrOperator]
    filterset_fields = ("status",)

    def get_serializer_class(self):
        return AnalysisJobCreateSerializer if self.action == "create" else AnalysisJobSerializer

    @extend_schema(request=AnalysisJobCreateSerializer, responses={201: AnalysisJobSerializer})
    def create(self, request, *args, **kwargs):
        incoming = AnalysisJobCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        job = create_analysis_job(requested_by=request.user, **incoming.validated_data)
        return Response(AnalysisJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: AnalysisJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, format=None):
        try:
            job = cancel_analysis_job(self.get_object())
        except JobFinished as e:
            return Response({"detail": str(e)}, status=status.HTTP_409_CONFLICT)
        return Response(AnalysisJobSerializer(job).data)
