"""Health alerts: rule fields, the troubles seen now and the alerts awaiting their "back"."""

import django.core.validators
import django.db.models.deletion
import notifications.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cameras', '0001_initial'),
        ('notifications', '0003_attendance_kind_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='rule',
            name='health_after_seconds',
            field=models.PositiveIntegerField(default=60, help_text='Health alerts: the trouble must last this long first (a camera offline for more than this).', validators=[django.core.validators.MaxValueValidator(604800)], verbose_name='alert after (s)'),
        ),
        migrations.AddField(
            model_name='rule',
            name='health_kinds',
            field=models.JSONField(blank=True, default=list, help_text='Trouble with the system: cameras offline (chosen cameras only, none: all), storage, the detector or face recognition processes.', validators=[notifications.models.validate_health_kinds], verbose_name='health alerts'),
        ),
        migrations.AddField(
            model_name='rule',
            name='notify_recovery',
            field=models.BooleanField(default=True, help_text="Health alerts: one 'back' notification after each 'down' one that was sent.", verbose_name='tell when it is fixed'),
        ),
        migrations.CreateModel(
            name='HealthCondition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject', models.CharField(help_text='"camera:12", "disk:recordings", …', max_length=200, unique=True)),
                ('kind', models.CharField(choices=[('camera_offline', 'Camera offline'), ('storage_low', 'Storage running out'), ('stage_down', 'Detector or face recognition down')], max_length=32)),
                ('title', models.CharField(help_text='What is in trouble, for the notification.', max_length=200)),
                ('detail', models.TextField(blank=True)),
                ('since', models.DateTimeField()),
                ('camera', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cameras.camera')),
            ],
            options={
                'ordering': ['since'],
            },
        ),
        migrations.CreateModel(
            name='HealthAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('camera_offline', 'Camera offline'), ('storage_low', 'Storage running out'), ('stage_down', 'Detector or face recognition down')], max_length=32)),
                ('title', models.CharField(max_length=200)),
                ('sent_at', models.DateTimeField()),
                ('camera', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cameras.camera')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='notifications.rule')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('rule', 'subject'), name='one_health_alert_per_rule_subject')],
            },
        ),
    ]
