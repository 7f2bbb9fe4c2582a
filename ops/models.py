from django.db import models


class SystemStatus(models.Model):
    """No table: gives the admin status page its place in Settings (as django-rq's
    dashboard does)."""

    class Meta:
        managed = False
        verbose_name = verbose_name_plural = "system status"
        default_permissions = ()

    def __str__(self):
        return "System status"
