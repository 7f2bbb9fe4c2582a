from contextlib import contextmanager


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


@contextmanager
def as_command_errors():
    """For the backup and restore commands: a BackupError or a database failure becomes
    one CommandError line (a non-zero exit, no traceback)."""
    from django.core.management.base import CommandError
    from django.db import DatabaseError

    try:
        yield
    except BackupError as e:
        raise CommandError(str(e)) from None
    except DatabaseError as e:
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CommandError(f"the database failed: {first_line}") from None
