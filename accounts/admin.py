from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import Role, User
from accounts.selectors import KEY_PREFIX_LENGTH, api_token_status, token_expiry
from accounts.services import revoke_api_tokens, unlock_logins, would_leave_no_admin

LAST_ADMIN_MESSAGE = "This is the last active admin: make another admin first."


class UserCreationForm(DjangoUserCreationForm):
    class Meta(DjangoUserCreationForm.Meta):
        model = User
        fields = ("username", "role", "email")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            stored = User.objects.get(pk=self.instance.pk)
            if would_leave_no_admin(stored, new_role=cleaned.get("role"), new_active=cleaned.get("is_active")):
                raise ValidationError(LAST_ADMIN_MESSAGE)
        return cleaned


class PasswordForm(AdminPasswordChangeForm):
    def clean(self):
        cleaned = super().clean()
        # Disabling the password of the last admin locks everyone out of the settings.
        if cleaned.get("set_usable_password") is False and would_leave_no_admin(self.user, new_active=False):
            self.add_error("usable_password", LAST_ADMIN_MESSAGE)  # the template shows no non-field errors
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users are managed here by admins. The role replaces Django's staff, superuser,
    group and permission switches, which follow it (see User.save)."""

    form = UserEditForm
    add_form = UserCreationForm
    change_password_form = PasswordForm
    list_display = ("username", "full_name", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("role", "is_active", "api_token")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "role", "email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined", "api_token")
    actions = ["revoke_api_tokens", "unlock_logins"]

    @admin.display(description="API token")
    def api_token(self, obj):
        status = api_token_status(obj) if obj.pk else None
        if status is None:
            return "None"
        expires = "never expires"
        if status.expiry:
            verb = "expired" if status.expiry.is_expired else "expires"
            expires = f"{verb} {status.expiry.at:%Y-%m-%d %H:%M}"
        return f"{status.key_prefix}…, created {status.created:%Y-%m-%d %H:%M}, {expires}"

    @admin.action(description="Revoke the API tokens of the selected users")
    def revoke_api_tokens(self, request, queryset):
        count = revoke_api_tokens(queryset)
        self.message_user(request, f"{count} API token{'s' if count != 1 else ''} revoked.", messages.SUCCESS)

    @admin.action(description="Unlock logins of the selected users (forget their failed logins)")
    def unlock_logins(self, request, queryset):
        count = unlock_logins(queryset.values_list("username", flat=True))
        self.message_user(request, f"{count} failed-login record{'s' if count != 1 else ''} cleared.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        # Never delete the last active admin: nobody could reach the settings again.
        if obj is not None and would_leave_no_admin(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        remaining = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk__in=queryset.values("pk"))
        if not remaining.exists():
            raise PermissionDenied("That would delete every active admin.")
        super().delete_queryset(request, queryset)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name()


# DRF's token list shows every key in full; the settings show the same few characters as the
# user's own page, so a glance over an admin's shoulder gives nothing away.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ApiTokenAdmin(TokenAdmin):
    list_display = ("user", "key_prefix", "created", "expires")

    @admin.display(description="key")
    def key_prefix(self, obj):
        return obj.key[:KEY_PREFIX_LENGTH] + "…"

    @admin.display(description="expires")
    def expires(self, obj):
        expiry = token_expiry(obj)
        return "never" if expiry is None else expiry.at
