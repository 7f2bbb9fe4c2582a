"""Existing face photos and attendance snapshots move to random names.

Before, a face photo was `faces/YYYY/MM/employee-<id>.jpg`: guessable from the id the API
shows. Each file gets a name like the new ones (ainvr.media.random_name, copied here so the
migration does not change when that does) and every row naming it is updated.

Safe to run again and to interrupt: the new name is a hard link (or a copy) made before the
rows change, the old name is removed only once they are committed, names already random
are left alone, and a row whose file is missing keeps its name (nothing to move).
"""

import logging
import os
import re
import secrets
import shutil
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import migrations, transaction

log = logging.getLogger("ainvr.attendance")

_RANDOM = re.compile(r"^(faces|attendance)/\d{4}/\d{2}/[A-Za-z0-9_-]{22}\.(jpg|png|webp|bmp)$")
_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
BATCH = 500


def is_random(name):
    return bool(_RANDOM.match(name)) and not PurePosixPath(name).name.startswith("employee-")


def random_name(prefix, old, when):
    suffix = PurePosixPath(old).suffix.lower()
    suffix = ".jpg" if suffix in ("", ".jpeg") or suffix not in _EXTENSIONS else suffix
    return f"{prefix}/{when:%Y/%m}/{secrets.token_urlsafe(16)}{suffix}"


def move(root, old, new, retired):
    """Give the file `old` the name `new` too; False when there is no such file."""
    source, target = root / old, root / new
    if not source.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links
        shutil.copy2(source, target)
    retired.append(source)
    return True


def remove_on_commit(retired):
    def remove():
        for path in retired:
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                log.warning("attendance migration: cannot remove %s (%s)", path, e)

    transaction.on_commit(remove)


def rename_files(apps, schema_editor):
    root = Path(settings.MEDIA_ROOT)
    FaceEnrolment = apps.get_model("attendance", "FaceEnrolment")
    FaceTemplate = apps.get_model("attendance", "FaceTemplate")
    AttendanceEvent = apps.get_model("attendance", "AttendanceEvent")
    retired, missing = [], 0

    # A face photo is named by an enrolment and the template made from it: one new name each.
    photos = {}
    for model in (FaceEnrolment, FaceTemplate):
        for name, created in model.objects.exclude(photo="").values_list("photo", "created_at"):
            if not is_random(name):
                photos.setdefault(name, created)
    for old, created in photos.items():
        new = random_name("faces", old, created)
        if not move(root, old, new, retired):
            missing += 1
            continue
        for model in (FaceEnrolment, FaceTemplate):
            model.objects.filter(photo=old).update(photo=new)

    events = AttendanceEvent.objects.exclude(snapshot="").order_by("pk")
    last = 0
    while rows := list(events.filter(pk__gt=last).only("pk", "snapshot", "time")[:BATCH]):
        last = rows[-1].pk
        changed = []
        for event in rows:
            old = event.snapshot.name
            if is_random(old):
                continue
            new = random_name("attendance", old, event.time)
            if not move(root, old, new, retired):
                missing += 1
                continue
            event.snapshot = new
            changed.append(event)
        AttendanceEvent.objects.bulk_update(changed, ["snapshot"])

    remove_on_commit(retired)
    if retired or missing:
        log.info("attendance: %d private file(s) renamed, %d row(s) name a missing file", len(retired), missing)


class Migration(migrations.Migration):

    dependencies = [
        ("attendance", "0003_private_media_names"),
    ]

    operations = [
        migrations.RunPython(rename_files, migrations.RunPython.noop),
    ]
