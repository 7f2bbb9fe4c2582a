from django import forms

from detection.labels import COCO_CLASSES
from notifications.models import AttendanceTrigger, Channel, Rule

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ChannelAdminForm(forms.ModelForm):
    """The webhook secret is write-only: rendered empty, kept when left empty."""

    new_webhook_secret = forms.CharField(
        label="Webhook secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    webhook_url = forms.URLField(label="Webhook URL", required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = Channel
        fields = ("name", "kind", "enabled", "email_to", "webhook_url")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = bool(self.instance.pk and self.instance.webhook_secret)
        self.fields["new_webhook_secret"].help_text = (
            "Stored and hidden; type to replace, leave empty to keep." if stored else "Signs each POST (HMAC-SHA256)."
        )

    def save(self, commit=True):
        if self.cleaned_data.get("new_webhook_secret"):
            self.instance.webhook_secret = self.cleaned_data["new_webhook_secret"]
        return super().save(commit)


class RuleAdminForm(forms.ModelForm):
    labels = forms.TypedMultipleChoiceField(
        label="Object classes", required=False, choices=[(c, c) for c in COCO_CLASSES],
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )  # fmt: skip
    attendance_kinds = forms.TypedMultipleChoiceField(
        label="Attendance events", required=False, choices=AttendanceTrigger.choices,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, initial=list(range(7))
    )

    class Meta:
        model = Rule
        fields = (
            "name", "enabled", "cameras", "labels", "attendance_kinds", "min_confidence", "weekdays",
            "active_from", "active_until", "cooldown_seconds", "channels",
        )  # fmt: skip
