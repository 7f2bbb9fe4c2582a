from django import forms

from attendance.models import MAX_FACES_PER_EMPLOYEE
from attendance.selectors import MAX_REPORT_DAYS
from cameras.models import Camera
from core.api.fields import DayFormField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/bmp"})

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class UploadFacesForm(forms.Form):
    photos = MultiplePhotoField(
        required=True,
        help_text=f"1 to {MAX_FACES_PER_EMPLOYEE} photos, each showing only this person's face, sharp and well lit.",
    )


class CaptureFaceForm(forms.Form):
    camera = forms.ModelChoiceField(
        queryset=Camera.objects.filter(enabled=True).order_by("name"),
        help_text="The person should stand facing this camera, alone in the picture, when you press Capture.",
    )


class ReportRangeForm(forms.Form):
    """A date range of at most MAX_REPORT_DAYS days; both ends included."""

    date_from = DayFormField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DayFormField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):

        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_to", "The end must not be before the start.")
            elif (end - start).days >= MAX_REPORT_DAYS:
                self.add_error("date_to", f"Ask for at most {MAX_REPORT_DAYS} days at a time.")
        return data
