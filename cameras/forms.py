from typing import TYPE_CHECKING, Any, cast

from django import forms

from cameras.models import Camera, DashboardLayout, default_ai_classes
from cameras.streams import extract_credentials
from core.labels import COCO_CLASSES
from core.model_scores import model_score_defaults

if TYPE_CHECKING:
    from django.http import QueryDict

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
            "detect_fps", "motion_gating", "rotation", "attendance_enabled",
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
        if "ai_confidence" in self.fields:
            model = model_score_defaults()
            field = self.fields["ai_confidence"]
            field.widget.attrs.update(placeholder=f"{model.threshold:.2f} (the model's)", step="0.01")
            field.help_text = (
                "A tracked object becomes real (an event, a box on the live grid, an alert) when the median of its "
                f"scores reaches this. Empty: the model's calibrated value, {model.threshold:.2f} ({model.basis}); "
                "scores differ between models, so a number that suits one model misses objects with another. "
                "Lower finds more, with more false alarms."
            )

    def _take_credentials_out_of_the_urls(self) -> None:
        """Credentials typed into a URL leave it before anything else sees it: a form shown
        again with an error must not echo them back into the page."""
        data = cast("QueryDict | dict[str, Any]", self.data).copy()  # a QueryDict from a request
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


MAX_TILES = 16  # DashboardLayout: at most 4 x 4


class DashboardLayoutAdminForm(forms.ModelForm):
    """A layout and what each of its tiles shows, one camera picker per tile (`slot_<n>`,
    n counting left to right, row by row). The same camera over a rectangle of tiles is one
    big tile on the live grid. static/ainvr/layout_editor.js lays the pickers out as the grid."""

    class Meta:
        model = DashboardLayout
        fields = ("name", "columns", "rows", "show_ai_overlay", "is_default")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cameras = Camera.objects.order_by("name")
        current = {}
        if self.instance.pk:
            current = {s.position: s.camera_id for s in self.instance.slots.all()}
        for position in range(MAX_TILES):
            self.fields[f"slot_{position}"] = forms.ModelChoiceField(
                queryset=cameras,
                required=False,
                empty_label="(empty)",
                label=f"Tile {position + 1}",
                initial=current.get(position),
            )

    def slot_fields(self):
        return [self[f"slot_{position}"] for position in range(MAX_TILES)]

    def clean(self):
        cleaned = super().clean()
        columns, rows = cleaned.get("columns"), cleaned.get("rows")
        if columns and rows:
            capacity = columns * rows
            outside = [p + 1 for p in range(capacity, MAX_TILES) if cleaned.get(f"slot_{p}")]
            if outside:
                raise forms.ValidationError(
                    f"A {columns}x{rows} grid has {capacity} tiles; tile(s) {', '.join(map(str, outside))} "
                    "are outside it: empty them or make the grid larger."
                )
        return cleaned

    def tiles(self) -> dict[int, Camera]:
        """The cameras by position, within the grid (after is_valid())."""
        capacity = self.cleaned_data["columns"] * self.cleaned_data["rows"]
        return {p: c for p in range(capacity) if (c := self.cleaned_data.get(f"slot_{p}")) is not None}
