from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import ObtainTokenView
from attendance.api import AttendanceReportView, EmployeeViewSet, ResetLogsView, TrackingStateView
from cameras.api import CameraViewSet, DashboardLayoutViewSet, ZoneViewSet
from detection.api import AnalysisJobViewSet, ObjectEventViewSet
from recordings.api import SegmentViewSet

router = DefaultRouter()
router.register("cameras", CameraViewSet, basename="camera")
router.register("layouts", DashboardLayoutViewSet, basename="layout")
router.register("zones", ZoneViewSet, basename="zone")
router.register("segments", SegmentViewSet, basename="segment")
router.register("detections", ObjectEventViewSet, basename="detection")
router.register("analysis-jobs", AnalysisJobViewSet, basename="analysis-job")
router.register("employees", EmployeeViewSet, basename="employee")

urlpatterns = [
    path("", include(router.urls)),
    path("tracking/state", TrackingStateView.as_view(), name="tracking-state"),
    path("admin/reset_logs", ResetLogsView.as_view(), name="reset-logs"),
    path("attendance/report", AttendanceReportView.as_view(), name="attendance-report"),
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script): no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
