"""Strict readers for environment variables.

Every reader raises ImproperlyConfigured naming the variable when its value cannot be
understood: a typo in a deployment must stop the process, not quietly pick a default
(healthchecks' ``envbool`` does the same). A ``NAME_FILE`` variable, when set, supplies
the value from a file (Docker secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: str | None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {e.strerror}") from e
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None, multiple_of: int | None = None
) -> int:
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    if multiple_of and value % multiple_of:
        raise ImproperlyConfigured(f"{name}={value} is not a multiple of {multiple_of}")
    return value


def env_input_size(name: str) -> int:
    """A detector input side in pixels: 0 (the model's own) or a multiple of 32 from 128 to 1280."""
    size = env_int(name, 0, minimum=0, maximum=1280, multiple_of=32)
    if 0 < size < 128:
        raise ImproperlyConfigured(f"{name}={size} is below the minimum 128 (0: the model's own)")
    return size


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One word of `choices` (case and surrounding spaces ignored); empty means `default`."""
    value = (env_str(name, default) or default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = (env_str(name) or default).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not a known time zone, e.g. Europe/Paris or UTC") from None
    return value


def env_directory(name: str, default: Path, *, writable: bool = True) -> Path:
    """A folder, created when missing. `writable=False` for folders AINVR only reads
    (a read-only models mount)."""
    raw = env_str(name)
    path = Path(raw).expanduser() if raw else default
    if not path.is_absolute():
        path = path.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if writable or not path.is_dir():
            raise ImproperlyConfigured(f"{name}={str(path)!r} cannot be created: {e.strerror}") from e
    if not path.is_dir():
        raise ImproperlyConfigured(f"{name}={str(path)!r} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ImproperlyConfigured(f"{name}={str(path)!r} is not readable by this user")
    if writable and not os.access(path, os.W_OK):
        raise ImproperlyConfigured(f"{name}={str(path)!r} is not writable by this user")
    return path


def url_scheme_check(name: str, value: str, schemes: set[str]) -> str:
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(sorted(s + '://' for s in schemes))}")
    return value


@overload
def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float: ...
@overload
def env_float(name: str, default: float | None, *, minimum: float, maximum: float) -> float | None: ...
def env_float(name: str, default: float | None, *, minimum: float, maximum: float) -> float | None:
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}")
    return value


def env_seconds_list(name: str, default: str) -> list[int]:
    """Comma-separated waits in whole seconds (e.g. retry backoffs): 1 to 20, each <= a day."""
    raw = env_str(name) or default
    try:
        values = [int(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a list of whole seconds, e.g. 30,120,600") from None
    if not values or len(values) > 20 or any(v < 0 or v > 86_400 for v in values):
        raise ImproperlyConfigured(f"{name}={raw!r}: give 1 to 20 waits, each 0 to 86400 seconds")
    return values


def env_path_prefix(name: str) -> str | None:
    """A URL path such as /_recordings/ (nginx internal locations), or None when unset."""
    value = (env_str(name) or "").strip()
    if value and not (value.startswith("/") and value.endswith("/")):
        raise ImproperlyConfigured(f"{name}={value!r} must be a URL path starting and ending with /")
    return value or None


def env_database(name: str, default_url: str) -> dict:
    """DATABASES["default"] from the URL in `name` (SQLite or PostgreSQL)."""
    import environ

    url = env_str(name) or default_url
    url_scheme_check(name, url, {"sqlite", "postgres", "postgresql", "pgsql"})
    try:
        database = environ.Env.db_url_config(url)
    except Exception as e:  # django-environ raises a mix of errors for malformed URLs
        raise ImproperlyConfigured(f"{name} cannot be parsed: {e}") from None
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Web, workers and RQ write at once: WAL lets readers run beside a writer, IMMEDIATE
        # transactions take the write lock up front instead of failing half way.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        database["CONN_HEALTH_CHECKS"] = True
        if env_bool("DATABASE_POOL", False):  # the web server sets it (ainvr/asgi.py); forking workers must not
            database["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env_int("DATABASE_POOL_SIZE", 10, minimum=2)}}
    if env_str("DATABASE_TEST_NAME"):
        # Only for the test runner: a file (SQLite) that worker processes started by tests can open too.
        database["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
    return database


def env_fernet_keys(name: str) -> list[str]:
    """Fernet keys, comma-separated (the first encrypts, every one decrypts), or [] when
    unset. A key is 32 random bytes in URL-safe base64 (44 characters). The error never
    quotes the value: it is a secret."""
    import base64
    import binascii

    raw = env_str(name)
    keys = [key.strip() for key in (raw or "").replace("\n", ",").split(",") if key.strip()]
    for position, key in enumerate(keys, 1):
        try:
            valid = len(key) == 44 and len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"{name}: key {position} is not a Fernet key (44 URL-safe base64 characters); make one with "
                'python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
            )
    return keys
