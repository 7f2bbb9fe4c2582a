"""Rules name attendance events as notify_attendance_event's `kind` does."""

from django.db import migrations

RENAMES = {
    "absence_alert": "absence",
    "alert_resolved": "resolved",
    "employee_arrived": "arrived",
}


def rename(apps, schema_editor, mapping):
    Rule = apps.get_model("notifications", "Rule")
    for rule in Rule.objects.all():
        kinds = [mapping.get(k, k) for k in rule.attendance_kinds]
        if kinds != rule.attendance_kinds:
            rule.attendance_kinds = kinds
            rule.save(update_fields=["attendance_kinds"])


def forwards(apps, schema_editor):
    rename(apps, schema_editor, RENAMES)


def backwards(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMES.items()})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_channels_delivery_push")]

    operations = [migrations.RunPython(forwards, backwards)]
