"""Dumping and loading the database, by engine.

Formats, and where each restores:

- `sqlite`: a copy made with SQLite's online backup API (a consistent snapshot while the
  workers keep writing). Restores into SQLite (copied in with the same API) and into
  PostgreSQL (migrated to the current schema, then moved across with Django's serialisation).
- `pg_custom`: `pg_dump --format=custom`, when pg_dump is on PATH. Restores into PostgreSQL
  only, with pg_restore in one transaction.
- `jsonl`: Django's serialisation of every app, read in one REPEATABLE READ transaction.
  Made for PostgreSQL when pg_dump is missing or fails, or asked for (`--database-format
  json`); restores into any engine.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ops.backup.errors import BackupError

SOURCE_ALIAS = "ainvr_restore_source"
# Rebuilt by `migrate` on the target; their ids may differ, so rows refer to them by natural key.
SKIPPED_MODELS = {"contenttypes.contenttype", "auth.permission"}


@dataclass
class DatabaseDump:
    format: str  # sqlite | pg_custom | jsonl
    path: Path
    counts: dict[str, int]

    @property
    def arcname(self) -> str:
        return "database/" + self.path.name


def engine(using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].vendor  # "sqlite" or "postgresql"


def dump_database(workdir: Path, *, database_format: str, progress: Callable[[str], None]) -> DatabaseDump:
    """Dump the default database into `workdir`. database_format: auto | native | json."""
    vendor = engine()
    if vendor == "sqlite":
        if database_format == "json":
            raise BackupError("--database-format json is for PostgreSQL; a SQLite backup restores into any engine")
        return _dump_sqlite(workdir)
    if database_format != "json":
        if shutil.which("pg_dump"):
            try:
                return _dump_pg(workdir)
            except BackupError as e:
                if database_format == "native":
                    raise
                progress(f"backup: {e}; falling back to Django's serialisation")
        elif database_format == "native":
            raise BackupError("pg_dump is not on PATH (Debian: apt-get install postgresql-client)")
    path = workdir / "data.jsonl"
    return DatabaseDump("jsonl", path, dump_jsonl(path, using=DEFAULT_DB_ALIAS))


def _dump_sqlite(workdir: Path) -> DatabaseDump:
    connections[DEFAULT_DB_ALIAS].close()
    source_path = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    path = workdir / "ainvr.sqlite3"
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    target = sqlite3.connect(path)
    try:
        # All pages in one step: a consistent snapshot (stepping restarts on every write).
        source.backup(target)
        counts = _sqlite_counts(target)
    except sqlite3.Error as e:
        raise BackupError(f"cannot copy the SQLite database {source_path}: {e}") from None
    finally:
        target.close()
        source.close()
    return DatabaseDump("sqlite", path, counts)


def _sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {}
    for model in _models():
        if model._meta.db_table in tables:
            query = f'SELECT COUNT(*) FROM "{model._meta.db_table}"'  # noqa: S608 - our own table names
            counts[model._meta.label_lower] = db.execute(query).fetchone()[0]
    return counts


def _pg_env(settings_dict: dict) -> dict[str, str]:
    """libpq's variables: the password never appears on a command line."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    env["PGDATABASE"] = settings_dict["NAME"]
    if settings_dict.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = settings_dict["OPTIONS"]["sslmode"]
    return env


def _dump_pg(workdir: Path) -> DatabaseDump:
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    path = workdir / "ainvr.pgdump"
    counts = _live_counts(DEFAULT_DB_ALIAS)  # the dump is its own snapshot; these are near it
    result = subprocess.run(  # noqa: S603 - arguments built here, none from input
        [shutil.which("pg_dump") or "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(path)],
        env=_pg_env(settings_dict), capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {_last_line(result.stderr)}")
    return DatabaseDump("pg_custom", path, counts)


def _models(using: str = DEFAULT_DB_ALIAS):
    """Models with rows to keep: managed, with a table (django-rq's dashboard model has none)."""
    tables = set(connections[using].introspection.table_names())
    return [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.label_lower not in SKIPPED_MODELS
        and model._meta.db_table in tables
    ]


def _live_counts(using: str) -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.using(using).count() for model in _models(using)}


def dump_jsonl(path: Path, *, using: str) -> dict[str, int]:
    """Every row of every app, one JSON object a line, parents before children."""
    models = [
        model
        for model in serializers.sort_dependencies([(config, None) for config in apps.get_app_configs()])
        if model in set(_models(using))
    ]
    counts = {}
    with transaction.atomic(using=using), open(path, "w", encoding="utf-8") as f:
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:  # one snapshot for every table
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for model in models:
            queryset = model._base_manager.using(using).order_by(model._meta.pk.name)
            counts[model._meta.label_lower] = queryset.count()
            serializers.serialize(
                "jsonl", queryset.iterator(chunk_size=1000), stream=f, use_natural_foreign_keys=True
            )  # fmt: skip
    return counts


def check_restorable(dump_format: str) -> None:
    """Refuse, before anything is touched, a dump this installation cannot load."""
    vendor = engine()
    if dump_format == "pg_custom":
        if vendor != "postgresql":
            raise BackupError(
                "this backup holds a pg_dump, which restores only into PostgreSQL; "
                "make one with --database-format json to move to SQLite"
            )
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not on PATH (Debian: apt-get install postgresql-client)")
    elif dump_format not in {"sqlite", "jsonl"}:
        raise BackupError(f"unknown database format {dump_format!r} in the manifest")


def load_database(dump_format: str, path: Path, workdir: Path, progress: Callable[[str], None]) -> None:
    """Replace the default database's contents with the dump, then migrate it to this version."""
    vendor = engine()
    if dump_format == "sqlite" and vendor == "sqlite":
        _load_sqlite_into_sqlite(path)
    elif dump_format == "pg_custom":
        _load_pg(path)
    else:
        if dump_format == "sqlite":
            progress("restore: converting the SQLite database for PostgreSQL")
            path = _sqlite_to_jsonl(path, workdir)
        _load_jsonl(path)
    call_command("migrate", interactive=False, verbosity=0)


def _load_sqlite_into_sqlite(path: Path) -> None:
    connections[DEFAULT_DB_ALIAS].close()
    target_path = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    source = sqlite3.connect(path)
    target = sqlite3.connect(target_path, timeout=60)
    try:
        # The backup API replaces the target in one transaction, WAL files included.
        source.backup(target)
    except sqlite3.Error as e:
        raise BackupError(f"cannot write the SQLite database {target_path}: {e}") from None
    finally:
        target.close()
        source.close()


def _load_pg(path: Path) -> None:
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    connections[DEFAULT_DB_ALIAS].close()
    result = subprocess.run(  # noqa: S603 - arguments built here, none from input
        [shutil.which("pg_restore") or "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", "--dbname", settings_dict["NAME"], str(path)],
        env=_pg_env(settings_dict), capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (the database is unchanged): {_last_line(result.stderr)}")


def _sqlite_to_jsonl(path: Path, workdir: Path) -> Path:
    """Bring the backed-up SQLite file to the current schema, then serialise it."""
    connections.settings[SOURCE_ALIAS] = connections.configure_settings(
        {DEFAULT_DB_ALIAS: dict(connections.settings[DEFAULT_DB_ALIAS]),
         SOURCE_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
    )[SOURCE_ALIAS]  # fmt: skip
    try:
        call_command("migrate", database=SOURCE_ALIAS, interactive=False, verbosity=0)
        out = workdir / "converted.jsonl"
        dump_jsonl(out, using=SOURCE_ALIAS)
        return out
    finally:
        connections[SOURCE_ALIAS].close()
        del connections.settings[SOURCE_ALIAS]


def _load_jsonl(path: Path) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        # Rows left by migrations (or by a --force restore over data) make way for the backup's.
        call_command("flush", interactive=False, verbosity=0)
        call_command("loaddata", str(path), verbosity=0)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
