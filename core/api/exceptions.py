"""One shape for API errors: bad input is a 400 with field messages, never a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's ValidationError; the API answers it as DRF would.
        exc = ValidationError(as_serializer_error(exc))
    if isinstance(exc, ProtectedError):
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        return Response(
            {"detail": f"Still referenced by {', '.join(names)}; disable it instead, or wait for retention."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
