from django import forms

from attendance.models import MAX_FACES_PER_EMPLOYEE
from cameras.models import Camera


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
