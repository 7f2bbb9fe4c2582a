from rest_framework import viewsets

from cameras.models import Camera, DashboardLayout
from cameras.serializers import CameraAdminSerializer, CameraSerializer, DashboardLayoutSerializer


class CameraViewSet(viewsets.ModelViewSet):
    """Cameras. Operators list and read (no stream URLs, never credentials); admins also
    create, update and delete. Credentials are write-only for everyone."""

    lookup_field = "slug"
    queryset = Camera.objects.with_status().order_by("name")
    filterset_fields = ("enabled", "ai_enabled", "attendance_enabled")

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema documents the full (admin) shape whoever downloads it;
            # operators get the same fields minus stream_url, detect_url and has_credentials.
            return CameraAdminSerializer
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and user.is_admin:
            return CameraAdminSerializer
        return CameraSerializer


class DashboardLayoutViewSet(viewsets.ReadOnlyModelViewSet):
    """Live grid layouts (edited in the admin)."""

    queryset = DashboardLayout.objects.prefetch_related("slots__camera")
    serializer_class = DashboardLayoutSerializer
