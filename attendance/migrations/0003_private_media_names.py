# Face photos and attendance snapshots get random names (ainvr.media); an enrolment notes
# when its job started, so one whose process died can be marked failed.

import attendance.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0002_face_enrolment'),
    ]

    operations = [
        migrations.AlterField(
            model_name='facetemplate',
            name='photo',
            field=models.ImageField(upload_to=attendance.models.face_photo_path),
        ),
        migrations.AlterField(
            model_name='faceenrolment',
            name='photo',
            field=models.ImageField(blank=True, upload_to=attendance.models.face_photo_path),
        ),
        migrations.AlterField(
            model_name='attendanceevent',
            name='snapshot',
            field=models.ImageField(blank=True, upload_to=attendance.models.snapshot_path),
        ),
        migrations.AddField(
            model_name='faceenrolment',
            name='started_at',
            field=models.DateTimeField(blank=True, help_text='When a job took it up.', null=True),
        ),
    ]
