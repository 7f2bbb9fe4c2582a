"""Answers shared by the JSON views."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse


def bad_request(error: ValidationError) -> JsonResponse:
    """400 with the error's messages by field ({"errors": {field: [...]}})."""
    return JsonResponse(
        {"errors": error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}}, status=400
    )
