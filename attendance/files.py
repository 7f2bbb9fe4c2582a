"""Files leave the disk with their rows.

Attendance snapshots go exactly as detection's ObjectEvent snapshots do (the same
`delete_snapshot_file`, after the delete commits). A face photo is shared by an enrolment
and the template made from it, so it goes once no row names it any more. Signals, not
services: rows also go by cascade (an employee deleted) and by queryset deletes (purges,
reset_logs), which no service of ours sees one by one.
"""

from __future__ import annotations

import logging

from django.db import transaction

from attendance.models import AttendanceEvent, FaceEnrolment, FaceTemplate
from detection.retention import delete_snapshot_file

log = logging.getLogger("ainvr.attendance")


def delete_unused_photo(sender, instance, **kwargs) -> None:
    """post_delete of FaceEnrolment and FaceTemplate: once the delete commits, the photo
    leaves the disk unless another enrolment or template still names it."""

    name = instance.photo.name if instance.photo else ""
    if not name:
        return
    storage = instance.photo.storage

    def delete() -> None:
        if FaceEnrolment.objects.filter(photo=name).exists() or FaceTemplate.objects.filter(photo=name).exists():
            return
        try:
            storage.delete(name)
        except OSError as e:  # a file that cannot go must not undo what was committed
            log.warning("attendance: cannot delete face photo %s (%s)", name, e)

    transaction.on_commit(delete)


def connect() -> None:
    from django.db.models.signals import post_delete

    post_delete.connect(delete_snapshot_file, sender=AttendanceEvent, dispatch_uid="attendance.delete_snapshot_file")
    for model in (FaceEnrolment, FaceTemplate):
        post_delete.connect(delete_unused_photo, sender=model, dispatch_uid=f"attendance.delete_photo.{model.__name__}")
