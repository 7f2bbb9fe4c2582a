"""Camera credentials encrypted at rest (issue 15, finding 10).

The columns keep their names (`username`, `password`) and now hold Fernet tokens made with
the key of cameras.secrets (SECRETS_KEY or STATE_DIR/secrets.key, never the database).
The existing plain values are encrypted in place; going back decrypts them.
"""

from django.db import migrations, models

import cameras.streams


def encrypt_existing(apps, schema_editor):
    from cameras import secrets

    Camera = apps.get_model("cameras", "Camera")
    for camera in Camera.objects.exclude(encrypted_username="", encrypted_password="").only("pk"):
        plain = Camera.objects.filter(pk=camera.pk).values("encrypted_username", "encrypted_password").get()
        Camera.objects.filter(pk=camera.pk).update(
            encrypted_username=secrets.encrypt(plain["encrypted_username"]),
            encrypted_password=secrets.encrypt(plain["encrypted_password"]),
        )


def decrypt_existing(apps, schema_editor):
    from cameras import secrets

    Camera = apps.get_model("cameras", "Camera")
    for camera in Camera.objects.exclude(encrypted_username="", encrypted_password=""):
        # CredentialsUnreadable (wrong key) stops the migration: nothing is lost.
        Camera.objects.filter(pk=camera.pk).update(
            encrypted_username=secrets.decrypt(camera.encrypted_username),
            encrypted_password=secrets.decrypt(camera.encrypted_password),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cameras", "0003_retention_days_help"),
    ]

    operations = [
        migrations.RenameField(model_name="camera", old_name="username", new_name="encrypted_username"),
        migrations.RenameField(model_name="camera", old_name="password", new_name="encrypted_password"),
        migrations.AlterField(
            model_name="camera",
            name="encrypted_username",
            field=models.TextField(blank=True, db_column="username"),
        ),
        migrations.AlterField(
            model_name="camera",
            name="encrypted_password",
            field=models.TextField(blank=True, db_column="password"),
        ),
        migrations.AddField(
            model_name="camera",
            name="username_key",
            field=models.CharField(
                blank=True,
                help_text="Empty: the URL is opened as rtsp://user:password@host/... Else the query key the camera "
                "reads the username from (e.g. user for ?user=...); set by itself when such a URL is saved.",
                max_length=32,
                validators=[cameras.streams.validate_query_key],
                verbose_name="username query key",
            ),
        ),
        migrations.AddField(
            model_name="camera",
            name="password_key",
            field=models.CharField(
                blank=True,
                help_text="Likewise for the password (e.g. password or pwd).",
                max_length=32,
                validators=[cameras.streams.validate_query_key],
                verbose_name="password query key",
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]
