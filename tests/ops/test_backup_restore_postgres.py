"""Backups with PostgreSQL: pg_dump into PostgreSQL, a SQLite backup into PostgreSQL
(across engines, through Django's serialisation), and a portable PostgreSQL backup into
SQLite; a pg_dump backup is refused by SQLite before anything is touched."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from tests.installs import Install
from tests.ops.conftest import POPULATE, data_files, files, rows, run_script

pytestmark = pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")


def manage_ok(install, *args, **env):
    result = install.manage(*args, **env)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def pg_source(tmp_path_factory, postgres_url):
    root = tmp_path_factory.mktemp("pg-source")
    install, url = Install(root), postgres_url()
    manage_ok(install, "migrate", "--verbosity", "0", DATABASE_URL=url)
    run_script(install, POPULATE, DATABASE_URL=url)
    return install, url


def test_a_pg_dump_backup_restores_into_a_fresh_postgresql(pg_source, postgres_url, tmp_path):
    source, source_url = pg_source
    archive = tmp_path / "pg.tar.gz"
    manage_ok(source, "backup", "--output", str(archive), DATABASE_URL=source_url)
    with tarfile.open(archive) as tar:
        assert "database/ainvr.pgdump" in tar.getnames()
    target, target_url = Install(tmp_path / "target"), postgres_url()
    (tmp_path / "target").mkdir()

    manage_ok(target, "restore", str(archive), DATABASE_URL=target_url)

    assert rows(target, DATABASE_URL=target_url) == rows(source, DATABASE_URL=source_url)
    assert data_files(target) == data_files(source)


def test_a_sqlite_backup_restores_into_postgresql(made_sqlite, postgres_url, tmp_path):
    source, archive = made_sqlite
    (tmp_path / "target").mkdir()
    target, target_url = Install(tmp_path / "target"), postgres_url()

    result = manage_ok(target, "restore", str(archive), DATABASE_URL=target_url)

    assert "converting the SQLite database" in result.stdout
    assert rows(target, DATABASE_URL=target_url) == rows(source)
    assert data_files(target) == data_files(source)
    # Sequences follow the restored ids: new rows get fresh ones.
    run_script(
        target,
        "from attendance.models import Employee; Employee.objects.create(code='E3', name='Grace Hopper')",
        DATABASE_URL=target_url,
    )


def test_a_json_backup_of_postgresql_restores_into_sqlite(pg_source, fresh_install, tmp_path):
    source, source_url = pg_source
    archive = tmp_path / "portable.tar.gz"
    manage_ok(source, "backup", "--output", str(archive), "--database-format", "json", DATABASE_URL=source_url)

    manage_ok(fresh_install, "restore", str(archive))

    assert rows(fresh_install) == rows(source, DATABASE_URL=source_url)


def test_a_pg_dump_backup_is_refused_by_sqlite_before_anything_is_touched(pg_source, fresh_install, tmp_path):
    source, source_url = pg_source
    archive = tmp_path / "pg.tar.gz"
    manage_ok(source, "backup", "--output", str(archive), DATABASE_URL=source_url)

    result = fresh_install.manage("restore", str(archive))

    assert result.returncode == 1
    assert "restores only into PostgreSQL" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert files(fresh_install.data_dir / "recordings") == {}


@pytest.fixture(scope="module")
def made_sqlite(tmp_path_factory, migrated_database):
    root = tmp_path_factory.mktemp("sqlite-source")
    shutil.copy(migrated_database, root / "ainvr.sqlite3")
    install = Install(root)
    run_script(install, POPULATE)
    archive = Path(root) / "backup.tar.gz"
    manage_ok(install, "backup", "--output", str(archive))
    return install, archive


@pytest.mark.parametrize("database_format", ["native", "json"])
def test_force_replaces_a_populated_postgresql(pg_source, postgres_url, tmp_path, database_format):
    source, source_url = pg_source
    archive = tmp_path / "pg.tar.gz"
    manage_ok(source, "backup", "--output", str(archive), "--database-format", database_format, DATABASE_URL=source_url)
    (tmp_path / "target").mkdir()
    target, target_url = Install(tmp_path / "target"), postgres_url()
    manage_ok(target, "migrate", "--verbosity", "0", DATABASE_URL=target_url)
    run_script(target, POPULATE.replace("Ada Lovelace", "Someone Else"), DATABASE_URL=target_url)

    refused = target.manage("restore", str(archive), DATABASE_URL=target_url)
    assert refused.returncode == 1 and "--force" in refused.stderr
    manage_ok(target, "restore", str(archive), "--force", DATABASE_URL=target_url)

    assert rows(target, DATABASE_URL=target_url) == rows(source, DATABASE_URL=source_url)
