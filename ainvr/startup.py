"""Start-up errors as one line: manage.py (every command, the workers included), the ASGI and
WSGI entry points. A bad setting, an unreachable database or Redis is something the person
starting AINVR fixes in .env or the environment; a 40-line traceback hides the one line that
says which variable. Django's own `--traceback` still shows it."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from core.outages import first_line, is_outage

HINT = "settings come from the environment and the .env file (README.md, Configuration)"


def message(error: BaseException) -> str | None:
    """The one line for an error met while starting, or None for any other error (a bug,
    which keeps its traceback)."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import Error as DatabaseError

    if isinstance(error, ImproperlyConfigured):
        return f"{error}; {HINT}"
    if not is_outage(error):
        return None
    if isinstance(error, DatabaseError):
        where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "the SQLite database in DATA_DIR"
        return f"cannot reach {where}: {first_line(error)}"
    return f"cannot reach Redis at REDIS_URL: {first_line(error)}"


def fail(line: str) -> None:
    print(f"ainvr: error: {line}", file=sys.stderr)
    raise SystemExit(1)


@contextmanager
def one_line_errors(argv: list[str] | None = None):
    """Turn a start-up error into 'ainvr: error: ...' on stderr and exit 1."""
    try:
        yield
    except Exception as e:
        if argv is not None and "--traceback" in argv:
            raise
        line = message(e)
        if line is None:
            raise
        fail(line)
