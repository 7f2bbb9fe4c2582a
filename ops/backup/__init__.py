"""Backup and restore of a whole installation: database, recordings, media and state.

An archive is a tar (gzip-compressed when its name ends in .gz) holding `database/`,
`recordings/`, `media/`, `state/` and, last, `manifest.json` with a sha256 and size for
every other member. It is written as a stream and read as a stream: never held in memory.
"""

from ops.backup.errors import BackupError
from ops.backup.services import BackupReport, RestoreReport, create_backup, restore_backup

__all__ = ["BackupError", "BackupReport", "RestoreReport", "create_backup", "restore_backup"]
