import argparse
from datetime import datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from ops.backup import create_backup
from ops.backup.errors import as_command_errors


def parse_since(value: str) -> datetime:
    """YYYY-MM-DD (midnight in TIME_ZONE) or an ISO date and time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time.min)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Back up the database, recordings, media and state into one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="The archive to write, e.g. backup.tar.gz.")
        parser.add_argument(
            "--recordings", action=argparse.BooleanOptionalAction, default=True, help="Include recordings (default)."
        )
        parser.add_argument(
            "--since", type=parse_since, help="Only recordings and media modified from this date (YYYY-MM-DD) on."
        )
        parser.add_argument(
            "--database-format",
            choices=["auto", "native", "json"],
            default="auto",
            help="PostgreSQL: native is pg_dump, json is Django's serialisation (restores into SQLite too); "
            "auto is pg_dump when it works. SQLite backups are always the database file.",
        )
        parser.add_argument(
            "--include-secrets-key",
            action="store_true",
            help="Also put the key of the camera credentials (SECRETS_KEY or STATE_DIR/secrets.key) into the "
            "archive. Left out by default: whoever holds the archive and the key can read the camera passwords.",
        )

    def handle(self, *args, output, recordings, since, database_format, include_secrets_key, **options):
        with as_command_errors():
            report = create_backup(
                output,
                recordings=recordings,
                since=since,
                database_format=database_format,
                include_secrets_key=include_secrets_key,
                progress=self._progress,
            )
        self.stdout.write(
            f"backup: wrote {report.path} ({report.files} files, {report.bytes / 1e6:.1f} MB, "
            f"database {report.database_format}) in {report.seconds:.1f} s"
        )

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
