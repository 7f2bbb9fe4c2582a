"""Redis or the database away, as one log line instead of a traceback.

Long-running processes expect these: Redis restarts, a connection times out, PostgreSQL is
restarted for an upgrade. The code around each call already carries on (the next turn, the
next frame); a traceback every few seconds only buries the line that says what is wrong.
Every other error keeps its traceback: that is a bug to see.
"""

from __future__ import annotations

import logging

# Words in a database error that say the connection, not the query, failed.
_CONNECTION_WORDS = (
    "connection",
    "could not connect",
    "server closed",
    "terminating",
    "timeout",
    "timed out",
    "unable to open database",
)


def is_outage(error: BaseException | None) -> bool:
    """True for an error that says Redis or the database cannot be reached right now."""
    if error is None:
        return False
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    if isinstance(error, RedisConnectionError | RedisTimeout | ConnectionError | TimeoutError):
        return True
    from django.db.utils import InterfaceError, OperationalError

    if isinstance(error, InterfaceError):
        return True
    if isinstance(error, OperationalError):
        text = str(error).lower()
        return any(words in text for words in _CONNECTION_WORDS)
    return False


def first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{error.__class__.__name__}: {lines[0]}" if lines else error.__class__.__name__


class OutageLines(logging.Filter):
    """A handler filter: a record whose exception is an outage loses the traceback and gets
    the error's first line appended instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_outage(error):
            record.msg = f"{record.getMessage()} ({first_line(error)})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
