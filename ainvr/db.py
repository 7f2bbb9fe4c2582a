"""Database habits of long-lived processes (workers), which Django's request cycle
otherwise does for us."""

from django.db import close_old_connections, connections


def drop_stale_connections() -> None:
    """Close connections the database may have dropped since we last used them, so the
    next query reconnects instead of failing (a worker runs for days; PostgreSQL restarts).

    Never inside a transaction: closing there would abort work the caller, or a test
    wrapping everything in one transaction, is in the middle of."""
    if any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        return
    close_old_connections()
