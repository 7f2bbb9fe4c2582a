"""Shared by the loop drivers (supervisor_loop, face_loop): a scratch Django set up in this
process (DEBUG off, its own DATA_DIR and database), and the heap's growth between two
tracemalloc snapshots."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.ingest.procfs import AINVR_ENV, REPO


@contextmanager
def scratch_django(database: str = "sqlite", redis_url: str = ""):
    """Yield a scratch folder once Django is set up on it and migrated (with Redis as the
    channel layer when `redis_url` is given)."""
    scratch = Path(tempfile.mkdtemp(prefix="ainvr-heap-"))
    for name in AINVR_ENV + ("DEBUG",):
        os.environ.pop(name, None)
    os.environ.update(DEBUG="false", DATA_DIR=str(scratch), ENV_FILE=str(scratch / "none.env"), LOG_LEVEL="WARNING")
    os.environ.update(SECRET_KEY=secrets.token_urlsafe(48), DJANGO_SETTINGS_MODULE="ainvr.settings")
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    db_name = ""
    if database == "postgres":
        from bench.soak.system import _pg_admin

        db_name = f"ainvr_heap_{os.getpid()}"
        _pg_admin(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_name}"
    sys.path.insert(0, str(REPO))
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield scratch
    finally:
        if db_name:
            from django.db import connections

            connections.close_all()
            _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)


def report_growth(first, last, *, minutes: float, rss_mb: tuple[float, float], top: int = 15) -> None:
    """Print how the heap grew from snapshot `first` to `last`, `minutes` of simulated time apart."""
    print(f"RSS after the warm-up {rss_mb[0]:.1f} MB, at the end {rss_mb[1]:.1f} MB ({minutes:.0f} min later)")
    stats = last.compare_to(first, "traceback")
    grew = sum(s.size_diff for s in stats)
    print(f"traced heap grew {grew / 1024:+.1f} KiB ({grew / 2**20 / minutes * 60:+.2f} MB/h); the top sites:")
    for stat in stats[:top]:
        print(f"{stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks")
        # The allocating line, then the last frames of this repository's code on the way there.
        ours = [f for f in stat.traceback if f.filename.startswith(str(REPO)) and "site-packages" not in f.filename]
        for frame in [stat.traceback[-1], *ours[-4:]]:
            print(f"    {frame.filename}:{frame.lineno}")
