from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.parsers import JSONParser

from cameras.models import Camera, DashboardLayout, Zone, ZoneKind
from cameras.serializers import (
    CameraAdminSerializer,
    CameraDocumentedSerializer,
    CameraSerializer,
    DashboardLayoutSerializer,
    ZoneSerializer,
)
from core.api.filters import ChoiceFilter, FilterSet, TextFilter


@extend_schema_view(
    list=extend_schema(responses=CameraDocumentedSerializer(many=True)),
    retrieve=extend_schema(responses=CameraDocumentedSerializer),
    create=extend_schema(request=CameraAdminSerializer, responses={201: CameraDocumentedSerializer}),
    update=extend_schema(request=CameraAdminSerializer, responses=CameraDocumentedSerializer),
    partial_update=extend_schema(request=CameraAdminSerializer, responses=CameraDocumentedSerializer),
)
class CameraViewSet(viewsets.ModelViewSet):
    """Cameras. Operators list and read (no stream URLs, never credentials); admins also
    create, update and delete. Credentials are write-only for everyone."""

    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # what a SlugField holds; anything else is a JSON 404
    queryset = Camera.objects.with_status().order_by("name")
    filterset_fields = ("enabled", "ai_enabled", "attendance_enabled")

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return CameraAdminSerializer  # the schema shows admins' request bodies whoever downloads it
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and user.is_admin:
            return CameraAdminSerializer
        return CameraSerializer


class DashboardLayoutViewSet(viewsets.ReadOnlyModelViewSet):
    """Live grid layouts (edited in the admin)."""

    lookup_value_regex = "[0-9]+"

    queryset = DashboardLayout.objects.prefetch_related("slots__camera")
    serializer_class = DashboardLayoutSerializer


class ZoneFilter(FilterSet):
    camera = TextFilter(field_name="camera__slug", help_text="The camera's slug.")
    kind = ChoiceFilter(choices=ZoneKind.choices)

    class Meta:
        model = Zone
        fields = ("camera", "kind")


class ZoneViewSet(viewsets.ModelViewSet):
    """Zones and masks drawn over a camera's picture (?camera=<slug>, ?kind=). Operators
    read; admins also create, change and delete. A bad outline is a 400 naming the problem,
    and the camera's other zones are untouched."""

    lookup_value_regex = "[0-9]+"
    queryset = Zone.objects.select_related("camera").order_by("camera__name", "kind", "name")
    serializer_class = ZoneSerializer
    parser_classes = [JSONParser]  # an outline is nested lists: form fields cannot carry it
    filterset_class = ZoneFilter
