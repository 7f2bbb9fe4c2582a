"""The AI analysis form of the web pages."""

from __future__ import annotations

from django import forms

from cameras.models import Camera
from core.api.fields import MomentFormField
from core.labels import COCO_CLASSES, DEFAULT_CLASSES
from core.model_scores import model_score_defaults
from detection.models import AnalysisJob

# The value format <input type="datetime-local"> needs (Django's default has a space).
LOCAL_MOMENT = forms.DateTimeInput(format="%Y-%m-%dT%H:%M:%S", attrs={"type": "datetime-local", "step": 1})


class AnalysisForm(forms.Form):
    camera = forms.ModelChoiceField(queryset=Camera.objects.order_by("name"), to_field_name="slug")
    start = MomentFormField(widget=LOCAL_MOMENT)
    end = MomentFormField(widget=LOCAL_MOMENT)
    classes = forms.MultipleChoiceField(
        choices=[(c, c) for c in COCO_CLASSES], initial=list(DEFAULT_CLASSES), help_text="Ctrl/Cmd-click for several."
    )
    confidence = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": 0.05}),
        help_text="The lowest score an object is counted at. Starts at the model's calibrated event threshold.",
    )
    sample_fps = forms.FloatField(
        label="Sampling rate (frames per second)",
        min_value=0.1,
        max_value=30.0,
        initial=AnalysisJob._meta.get_field("sample_fps").default,
        widget=forms.NumberInput(attrs={"step": 0.1}),
    )
    annotate = forms.BooleanField(label="Make an annotated video", required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confidence"].initial = round(model_score_defaults().threshold, 2)
        cameras = list(self.fields["camera"].queryset[:2])
        if len(cameras) == 1:
            # Nothing to choose: the only camera, with no empty choice to trip over.
            self.fields["camera"].empty_label = None
            self.fields["camera"].initial = cameras[0].slug

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "The end must be after the start.")
        return data
