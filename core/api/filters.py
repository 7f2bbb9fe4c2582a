from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_filters import rest_framework as filters
from django_filters.fields import ChoiceField
from drf_spectacular.utils import extend_schema_field

from core.api.fields import MomentFilter


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error, not a filter quietly left out."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        word = str(value).lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget turns unknown words into "no filter" before the field sees them.
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


class RequiredValueMixin:
    """Present but empty is an error (the schema says the value's type), not "no filter"."""

    def clean(self, value):
        if value == "":
            raise ValidationError("Give a value, or leave the parameter out.", code="blank")
        return super().clean(value)


class IdField(RequiredValueMixin, forms.IntegerField):
    pass


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(filters.NumberFilter):
    """An object's id: rows pointing at it (none for an id that does not exist)."""

    field_class = IdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


class FractionField(RequiredValueMixin, forms.FloatField):
    pass


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class FractionFilter(filters.NumberFilter):
    """A number from 0 to 1 (a confidence)."""

    field_class = FractionField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0.0)
        kwargs.setdefault("max_value", 1.0)
        super().__init__(*args, **kwargs)


class RequiredChoiceField(RequiredValueMixin, ChoiceField):
    pass


class ChoiceFilter(filters.ChoiceFilter):
    """One of the choices; present but empty is an error (the schema's enum has no "")."""

    field_class = RequiredChoiceField


@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*$"})
class TextFilter(filters.CharFilter):
    """Text matched exactly (a camera's slug). The schema states what the form refuses: NUL
    characters, which PostgreSQL cannot store."""


class FilterSet(filters.FilterSet):
    """The base of every API filter set: model booleans and choices filter strictly."""

    FILTER_DEFAULTS = {**filters.FilterSet.FILTER_DEFAULTS, models.BooleanField: {"filter_class": StrictBooleanFilter}}

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is filters.ChoiceFilter:  # a model field with choices (filterset_fields)
            filter_class = ChoiceFilter
        return filter_class, params


class FilterBackend(filters.DjangoFilterBackend):
    """Builds `filterset_fields` filters on our FilterSet; bad values answer 400."""

    filterset_base = FilterSet


class TimeRangeForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError({"end": "end must not be before start."})
        return cleaned


class TimeRangeFilterSet(FilterSet):
    """`start` and `end` (ISO 8601) keep the rows whose time span overlaps [start, end].

    Subclasses set `range_start` / `range_end` to their models' field names (an empty
    range_end means the row is an instant, or is still going on when its end is null)."""

    start = MomentFilter(method="filter_start", help_text="Keep rows still going on at or after this time.")
    end = MomentFilter(method="filter_end", help_text="Keep rows that began at or before this time.")

    range_start = "start"
    range_end = "end"

    class Meta:
        form = TimeRangeForm

    def filter_start(self, queryset, name, value):
        if not self.range_end:
            return queryset.filter(**{f"{self.range_start}__gte": value})
        return queryset.filter(Q(**{f"{self.range_end}__gte": value}) | Q(**{f"{self.range_end}__isnull": True}))

    def filter_end(self, queryset, name, value):
        return queryset.filter(**{f"{self.range_start}__lte": value})
