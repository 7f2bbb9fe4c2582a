from django import forms

from cameras.models import Camera
from detection.labels import COCO_CLASSES

COCO_CHOICES = [(name, name) for name in COCO_CLASSES]


class CameraAdminForm(forms.ModelForm):
    """The camera form. Username and password are write-only: the inputs are always
    rendered empty; leaving them empty keeps what is stored."""

    new_username = forms.CharField(
        label="Username", required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}), strip=True
    )
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_credentials = forms.BooleanField(required=False, help_text="Remove the stored username and password.")
    ai_classes = forms.TypedMultipleChoiceField(
        label="Object classes", choices=COCO_CHOICES, widget=forms.SelectMultiple(attrs={"size": 10})
    )

    class Meta:
        model = Camera
        # Listed, not excluded: a new model field must be a decision, not appear by itself.
        fields = (
            "name", "slug", "enabled", "stream_url", "detect_url", "recording_enabled", "segment_seconds",
            "retention_days", "ai_enabled", "ai_classes", "ai_confidence", "detect_fps", "motion_gating",
            "attendance_enabled",
        )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.pk and self.instance.has_credentials
        hint = "Stored and hidden; type to replace, leave empty to keep." if stored else "Not set."
        self.fields["new_username"].help_text = hint
        self.fields["new_password"].help_text = hint

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_credentials") and (cleaned.get("new_username") or cleaned.get("new_password")):
            raise forms.ValidationError("Either clear the credentials or type new ones, not both.")
        return cleaned

    def credential_changes(self) -> dict:
        """Keyword arguments for cameras.services.save_camera."""
        if self.cleaned_data.get("clear_credentials"):
            return {"username": "", "password": ""}
        changes = {}
        if self.cleaned_data.get("new_username"):
            changes["username"] = self.cleaned_data["new_username"]
        if self.cleaned_data.get("new_password"):
            changes["password"] = self.cleaned_data["new_password"]
        return changes
