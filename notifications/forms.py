from __future__ import annotations

import base64

from django import forms

from core.labels import COCO_CLASSES
from notifications.models import AttendanceTrigger, Channel, HealthTrigger, Rule

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
        fields = ("name", "kind", "enabled", "email_to", "webhook_url", "push_users")

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
    health_kinds = forms.TypedMultipleChoiceField(
        label="Health alerts", required=False, choices=HealthTrigger.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Cameras offline (the chosen cameras; none: all), storage running out, the detector or face "
        "recognition process down or restarting in a loop.",
    )  # fmt: skip
    health_after_seconds = forms.IntegerField(
        label="Alert after (s)", required=False, min_value=0, max_value=7 * 86_400, initial=60,
        help_text="Health alerts: the trouble must last this long first (a camera offline for more than this). "
        "Empty: 60.",
    )  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, initial=list(range(7))
    )

    def clean_health_after_seconds(self):
        value = self.cleaned_data.get("health_after_seconds")
        return 60 if value is None else value

    class Meta:
        model = Rule
        fields = (
            "name", "enabled", "cameras", "labels", "attendance_kinds", "health_kinds", "health_after_seconds",
            "notify_recovery", "min_confidence", "weekdays", "active_from", "active_until", "cooldown_seconds",
            "channels",
        )  # fmt: skip


def _b64url_bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return b""


class PushSubscriptionForm(forms.Form):
    """What PushManager.subscribe() gives a browser: {endpoint, keys: {p256dh, auth}}."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)

    @classmethod
    def from_json(cls, body: dict) -> PushSubscriptionForm:
        keys = body.get("keys")
        if not isinstance(keys, dict):
            keys = {}
        return cls({"endpoint": body.get("endpoint"), "p256dh": keys.get("p256dh"), "auth": keys.get("auth")})

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        if not endpoint.startswith("https://"):
            raise forms.ValidationError("Push services are reached over https.")
        return endpoint

    def clean_p256dh(self):
        raw = _b64url_bytes(self.cleaned_data["p256dh"])
        if len(raw) != 65 or raw[0] != 4:
            raise forms.ValidationError("Not a P-256 public key (65 bytes, base64url).")
        return self.cleaned_data["p256dh"]

    def clean_auth(self):
        if len(_b64url_bytes(self.cleaned_data["auth"])) != 16:
            raise forms.ValidationError("Not an auth secret (16 bytes, base64url).")
        return self.cleaned_data["auth"]
