from pathlib import Path

from django.core.management.base import BaseCommand

from ops.backup import restore_backup
from ops.backup.errors import as_command_errors


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
        with as_command_errors():
            report = restore_backup(archive, force=force, progress=self._progress)
        self.stdout.write(
            f"restore: done: {report.files} files, {report.bytes / 1e6:.1f} MB, "
            f"database {report.database_format}, in {report.seconds:.1f} s"
        )
        if report.left_in_place:
            self.stdout.write(f"restore: {report.left_in_place} files that were already there are left in place")

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
