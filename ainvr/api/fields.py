"""Input fields shared by the API's serializers and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

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
    def clean(self, value):
        parsed = super().clean(value)
        return check_moment(parsed) if parsed is not None else None


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
