from django import forms

from cameras.models import Camera, default_ai_classes
from cameras.streams import extract_credentials
from detection.labels import COCO_CLASSES

COCO_CHOICES = [(name, name) for name in COCO_CLASSES]


class CameraAdminForm(forms.ModelForm):
    """The camera form. Username and password are write-only: the inputs are always
    rendered empty; leaving them empty keeps what is stored."""

    new_username = forms.CharField(
        label="Username",
        required=False,
        max_length=128,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        strip=True,
    )
    new_password = forms.CharField(
        label="Password",
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_credentials = forms.BooleanField(required=False, help_text="Remove the stored username and password.")
    ai_classes = forms.TypedMultipleChoiceField(
        label="Object classes",
        choices=COCO_CHOICES,
        initial=default_ai_classes,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Ctrl/Cmd-click for several. A new camera starts with people and vehicles.",
    )

    class Meta:
        model = Camera
        # Listed, not excluded: a new model field must be a decision, not appear by itself.
        fields = (
            "name", "slug", "enabled", "stream_url", "detect_url", "username_key", "password_key",
            "recording_enabled", "segment_seconds", "retention_days", "ai_enabled", "ai_classes", "ai_confidence",
            "detect_fps", "motion_gating", "attendance_enabled",
        )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._from_url = {}
        if self.is_bound:
            self._take_credentials_out_of_the_urls()
        stored = self.instance.pk and self.instance.has_credentials
        hint = "Stored and hidden; type to replace, leave empty to keep." if stored else "Not set."
        self.fields["new_username"].help_text = hint
        self.fields["new_password"].help_text = hint

    def _take_credentials_out_of_the_urls(self) -> None:
        """Credentials typed into a URL leave it before anything else sees it: a form shown
        again with an error must not echo them back into the page."""
        data = self.data.copy()
        for name in ("stream_url", "detect_url"):
            key = self.add_prefix(name)
            split = extract_credentials(data.get(key) or "")
            if split.username or split.password:
                data[key] = split.url
                if not self._from_url:  # the first URL holding credentials says how the camera takes them
                    self._from_url = split._asdict()
                    data[self.add_prefix("username_key")] = split.username_key
                    data[self.add_prefix("password_key")] = split.password_key
        self.data = data

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
        if self._from_url:  # typed into a URL; the fields below win when typed too
            changes = {"username": self._from_url["username"], "password": self._from_url["password"]}
        if self.cleaned_data.get("new_username"):
            changes["username"] = self.cleaned_data["new_username"]
        if self.cleaned_data.get("new_password"):
            changes["password"] = self.cleaned_data["new_password"]
        return changes
