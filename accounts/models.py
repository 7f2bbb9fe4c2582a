from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from rest_framework.authtoken.models import Token


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `createsuperuser` makes an admin: the role is what AINVR checks.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who uses AINVR. The role decides what they may do:

    - admin: everything, the settings (Django admin) and user management included;
    - operator: live view, playback, AI analysis and attendance views, nothing else.

    Django's is_staff/is_superuser flags follow the role on every save, so Django's own
    permission checks (admin, django-rq) agree with it.

    The user's API token is deleted by the save that follows a new password (set_password,
    set_unusable_password: own change, admin reset, services) and by any save that leaves the
    user without a role (deactivated): a token must not outlive the password it was got with.
    Django's re-hash of an unchanged password at login (a hasher upgrade) keeps it.
    """

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR, db_index=True)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["username"]

    _password_disabled = False

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        # Django keeps the raw password in _password from set_password to the save (for its
        # password_changed hook); its re-hash at login clears it first.
        password_replaced = self._password is not None or self._password_disabled  # type: ignore[attr-defined]  # AbstractBaseUser._password: private, not in django-stubs
        super().save(*args, **kwargs)
        if password_replaced or not (self.is_active and self.role in Role.values):
            Token.objects.filter(user=self).delete()
        self._password_disabled = False

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_operator(self) -> bool:
        return self.is_active and self.role == Role.OPERATOR
