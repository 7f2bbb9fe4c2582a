from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into this (empty) installation. "
        "Stop the web server, runworkers and rqworker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="Replace the database of an installation that is not empty."
        )

    def handle(self, *args, archive, force, **options):
        try:
            report = restore_backup(archive, force=force, progress=self._progress)
        except BackupError as e:
            raise CommandError(str(e)) from None
        except DatabaseError as e:
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise CommandError(f"the database failed: {first_line}") from None
        self.stdout.write(
            f"restore: done: {report.files} files, {report.bytes / 1e6:.1f} MB, "
            f"database {report.database_format}, in {report.seconds:.1f} s"
        )
        if report.left_in_place:
            self.stdout.write(f"restore: {report.left_in_place} files that were already there are left in place")

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
