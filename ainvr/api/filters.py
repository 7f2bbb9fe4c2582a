from django import forms
from django.db.models import Q
from django_filters import rest_framework as filters


class TimeRangeForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError({"end": "end must not be before start."})
        return cleaned


class TimeRangeFilterSet(filters.FilterSet):
    """`start` and `end` (ISO 8601) keep the rows whose time span overlaps [start, end].

    Subclasses set `range_start` / `range_end` to their models' field names (an empty
    range_end means the row is an instant, or is still going on when its end is null)."""

    start = filters.IsoDateTimeFilter(
        method="filter_start", help_text="Keep rows still going on at or after this time."
    )
    end = filters.IsoDateTimeFilter(method="filter_end", help_text="Keep rows that began at or before this time.")

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
