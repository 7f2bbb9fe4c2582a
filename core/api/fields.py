"""Input fields shared by the API's serializers and filters, and by the pages' forms:
every date or moment a client gives goes through check_day or check_moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

# Real time zones lie within UTC-12 and UTC+14; PostgreSQL refuses offsets past 15:59.
MAX_UTC_OFFSET = timedelta(hours=14)
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999


def check_moment(value: datetime) -> datetime:
    """Refuse a datetime no camera can have recorded: a bogus UTC offset, or a year
    outside 1970..2999 (which also keeps conversions to UTC from overflowing)."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("The UTC offset must be between -12:00 and +14:00.", code="offset")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"Use a year from {EARLIEST_YEAR} to {LATEST_YEAR}.", code="year")
    if offset is not None:
        value.astimezone(UTC)
    return value


def check_day(value: date) -> date:
    """Refuse a day outside 1970..2999 (the day after 9999-12-31 overflows)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"Use a year from {EARLIEST_YEAR} to {LATEST_YEAR}.", code="year")
    return value


# What the checks above accept, as the OpenAPI schema says it (RFC 3339 with a year from 1970
# to 2999 and an offset within UTC-13:59..+14:00; the API also takes a naive time as local).
DAY_PATTERN = r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
MOMENT_PATTERN = (
    r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
MOMENT_SCHEMA = {"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN}

BLANK_DAY = "Give a date such as 2026-05-01, or leave the field out."
BLANK_MOMENT = "Give a date and time such as 2026-05-01T10:42:00Z, or leave the field out."


@extend_schema_field({"type": "string", "format": "date", "pattern": DAY_PATTERN})
class DayField(serializers.DateField):
    """A day as YYYY-MM-DD in 1970..2999. An empty string is an error, in a form post
    too (where DRF would read it as null: "no bound")."""

    default_error_messages = {"blank": BLANK_DAY}

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if value is None and html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return value

    def to_internal_value(self, value):
        if isinstance(value, str) and not value.strip():
            self.fail("blank")
        day = super().to_internal_value(value)
        try:
            return check_day(day)
        except ValidationError as e:
            raise serializers.ValidationError(e.messages) from None


class DayFormField(forms.DateField):
    """DayField for the pages' forms (<input type="date">)."""

    def clean(self, value):
        if value == "" and not self.required:
            raise ValidationError(BLANK_DAY, code="blank")
        day = super().clean(value)
        return check_day(day) if day is not None else None


@extend_schema_field(MOMENT_SCHEMA)
class MomentField(serializers.DateTimeField):
    """An ISO 8601 datetime that the database can store and a recording can have."""

    def enforce_timezone(self, value):
        # Checked as the client wrote it, before conversion to the server's time zone.
        try:
            check_moment(value)
        except ValidationError as e:
            raise serializers.ValidationError(e.messages) from None
        return super().enforce_timezone(value)


class MomentFormField(IsoDateTimeField):
    """An ISO 8601 moment (naive: the server's time zone) for filters and the pages' forms
    (<input type="datetime-local">). Present but empty is an error, not "no bound"."""

    def clean(self, value):
        if value == "" and not self.required:
            raise ValidationError(BLANK_MOMENT, code="blank")
        parsed = super().clean(value)
        return check_moment(parsed) if parsed is not None else None


@extend_schema_field(MOMENT_SCHEMA)
class MomentFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 datetime filter that refuses impossible moments with a 400."""

    field_class = MomentFormField


class SlugLookupField(serializers.SlugRelatedField):
    """A SlugRelatedField that answers "does not exist" for text no slug can be
    (PostgreSQL refuses NUL characters outright: a 500 otherwise)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)
