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


def keep_connection(seconds: int = 600) -> None:
    """Keep this process's connection open between uses (checked before each use) instead of
    opening one for each write. A connection pool (DATABASE_POOL, meant for the web server)
    is dropped here: Django refuses a pool beside persistent connections, and one connection
    is all a worker loop needs."""
    settings_dict = connections["default"].settings_dict
    settings_dict.get("OPTIONS", {}).pop("pool", None)
    settings_dict["CONN_MAX_AGE"] = seconds
