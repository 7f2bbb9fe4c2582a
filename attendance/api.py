from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from attendance.enrolment import request_upload_enrolments
from attendance.models import MAX_FACES_PER_EMPLOYEE, Employee, FaceEnrolment, PresenceState
from attendance.selectors import MAX_REPORT_DAYS, attendance_report, count_by_state, tracking_state
from attendance.services import RESET_TABLES, ResetMismatch, reset_logs
from core.api.fields import DayField


class EmployeeSerializer(serializers.ModelSerializer):
    face_templates = serializers.IntegerField(source="face_templates.count", read_only=True)

    class Meta:
        model = Employee
        fields = ("id", "code", "name", "department", "active", "face_templates", "created_at", "updated_at")
        read_only_fields = ("id", "face_templates", "created_at", "updated_at")


class FacePhotosSerializer(serializers.Serializer):
    photos = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=MAX_FACES_PER_EMPLOYEE,
        help_text="JPEG, PNG, WebP or BMP photos, each showing only this person's face; "
        "judged from their header (at most MAX_IMAGE_PIXELS pixels) before anything is stored.",
    )


class FaceEnrolmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = FaceEnrolment
        fields = ("id", "status", "reason", "created_at")
        read_only_fields = fields


class EmployeeViewSet(viewsets.ModelViewSet):
    """Employees: admins only (operators get live video, playback and analysis, not staff
    records). Face photos are enrolled here (POST faces/) or on the employee's admin page."""

    lookup_value_regex = "[0-9]+"
    permission_classes = [IsAdmin]

    queryset = Employee.objects.order_by("name")
    serializer_class = EmployeeSerializer
    filterset_fields = ("active", "department")

    @extend_schema(
        request={"multipart/form-data": FacePhotosSerializer},
        responses={202: FaceEnrolmentSerializer(many=True)},  # 400 and the rest: core.api.schema
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser],
        serializer_class=FacePhotosSerializer,
        filter_backends=[],  # the list's filters and pages are not this action's
        pagination_class=None,
    )
    def faces(self, request, pk=None, format=None):  # format: the router's .json suffix
        """Queue 1-5 face photos for enrolment; each is judged by the face model in the
        background (poll the admin page, or GET this employee's face_templates count)."""
        employee = self.get_object()
        incoming = FacePhotosSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            created = request_upload_enrolments(employee, incoming.validated_data["photos"])
        except DjangoValidationError as e:
            raise serializers.ValidationError(e.message_dict) from None
        return Response(FaceEnrolmentSerializer(created, many=True).data, status=status.HTTP_202_ACCEPTED)


class PresenceRowSerializer(serializers.Serializer):
    employee_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    state = serializers.ChoiceField(choices=PresenceState.choices)
    since = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    last_camera = serializers.CharField(allow_null=True, help_text="Camera slug.")
    last_camera_name = serializers.CharField(allow_null=True)


class TrackingStateSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    available = serializers.IntegerField()
    off = serializers.IntegerField()
    employees = PresenceRowSerializer(many=True)


class TrackingStateView(APIView):
    """Who is in now: every active employee's presence. Admins only."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=TrackingStateSerializer)
    def get(self, request):
        rows = tracking_state()
        counts = count_by_state(rows)
        data = {"as_of": timezone.now(), "available": counts["available"], "off": counts["off"], "employees": rows}
        return Response(TrackingStateSerializer(data).data)


class ResetLogsSerializer(serializers.Serializer):
    table = serializers.ChoiceField(choices=RESET_TABLES)
    from_date = DayField(required=False, allow_null=True, help_text="First day deleted; null or left out: no start.")
    to_date = DayField(required=False, allow_null=True, help_text="Last day deleted; null or left out: no end.")
    dry_run = serializers.BooleanField(default=False, help_text="Count the rows that would go; delete nothing.")
    expected = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="The total rows the user confirmed (from a dry run); when the logs changed since, nothing goes.",
    )
    confirm_all = serializers.BooleanField(
        default=False, help_text="Required with no dates at all: every row of the chosen logs is deleted."
    )

    def validate(self, attrs):
        start, end = attrs.get("from_date"), attrs.get("to_date")
        if start and end and start > end:
            raise serializers.ValidationError({"to_date": "to_date must not be before from_date."})
        if not (start or end or attrs["dry_run"] or attrs["confirm_all"]):
            raise serializers.ValidationError(
                {"confirm_all": "With no dates every row of the chosen logs is deleted: send confirm_all: true."}
            )
        return attrs


class ResetLogsResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    deleted_events = serializers.IntegerField(help_text="Deleted (or, on a dry run, that would be).")
    deleted_alert_logs = serializers.IntegerField(help_text="Deleted (or, on a dry run, that would be).")


class ResetLogsView(APIView):
    """Delete attendance events and/or alert logs over whole days (both dates included,
    in the server's time zone); with no dates, the whole table(s). Admins only."""

    permission_classes = [IsAdmin]
    # JSON only: a form cannot say null, and an empty field once meant "no bound" there.
    parser_classes = [JSONParser]

    @extend_schema(request=ResetLogsSerializer, responses={200: ResetLogsResultSerializer})
    def post(self, request):
        incoming = ResetLogsSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        options = dict(incoming.validated_data)
        options.pop("confirm_all")
        try:
            deleted = reset_logs(**options)
        except ResetMismatch as e:
            raise serializers.ValidationError({"expected": [str(e)]}) from None
        return Response(
            {
                "ok": True,
                "dry_run": options["dry_run"],
                "deleted_events": deleted["events"],
                "deleted_alert_logs": deleted["alert_logs"],
            },
            status=status.HTTP_200_OK,
        )


class ReportQuerySerializer(serializers.Serializer):
    from_date = DayField()
    to_date = DayField()
    employee = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if attrs["from_date"] > attrs["to_date"]:
            raise serializers.ValidationError({"to_date": "to_date must not be before from_date."})
        if (attrs["to_date"] - attrs["from_date"]).days >= MAX_REPORT_DAYS:
            raise serializers.ValidationError({"to_date": f"Ask for at most {MAX_REPORT_DAYS} days at a time."})
        return attrs


class ReportRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    employee_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    first_in = serializers.DateTimeField()
    last_out = serializers.DateTimeField()
    hours = serializers.FloatField()


class AttendanceReportView(APIView):
    """First in / last out per employee and day over a date range (days in the server's
    time zone, both included; at most 366 days). Admins only."""

    permission_classes = [IsAdmin]

    @extend_schema(parameters=[ReportQuerySerializer], responses=ReportRowSerializer(many=True))
    def get(self, request):
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = attendance_report(
            query.validated_data["from_date"],
            query.validated_data["to_date"],
            employee_id=query.validated_data.get("employee"),
        )
        return Response(ReportRowSerializer(rows, many=True).data)
