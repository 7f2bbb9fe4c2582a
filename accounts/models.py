from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models


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
    """

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR, db_index=True)

    objects = UserManager()

    class Meta:
        ordering = ["username"]

    def save(self, *args, **kwargs):
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_operator(self) -> bool:
        return self.is_active and self.role == Role.OPERATOR
