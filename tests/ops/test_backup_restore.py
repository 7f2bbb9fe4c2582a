"""A populated installation backed up and restored into a fresh DATA_DIR and database
gives back identical rows and files; damaged archives and populated targets are refused
with one line and nothing touched."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import tarfile

import pytest

from tests.installs import Install
from tests.ops.conftest import POPULATE, data_files, files, rows, run_script


@pytest.fixture(scope="module")
def made(tmp_path_factory, migrated_database):
    """One populated install and its backup, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("source")
    shutil.copy(migrated_database, root / "ainvr.sqlite3")
    install = Install(root)
    run_script(install, POPULATE)
    archive = root / "backup.tar.gz"
    result = backup(install, archive)
    return install, archive, result


def backup(install, archive, *args, **env):
    result = install.manage("backup", "--output", str(archive), *args, **env)
    assert result.returncode == 0, result.stderr
    return result


def test_it_restores_identical_rows_and_files_into_a_fresh_install(made, fresh_install):
    populated, archive, result = made
    assert "backup: recordings 6 files" in result.stdout

    restored = fresh_install.manage("restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    assert rows(fresh_install) == rows(populated)
    assert data_files(fresh_install) == data_files(populated)
    assert data_files(populated)["state"]["secret_key"]  # the generated key came across
    # ... but not the camera credentials' key (test_backup_secrets)
    assert (populated.data_dir / "state" / "secrets.key").exists()
    assert not (fresh_install.data_dir / "state" / "secrets.key").exists()


def test_the_manifest_lists_versions_counts_and_checksums(made):
    _, archive, _ = made

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        listed = [json.loads(line) for line in tar.extractfile("files.jsonl")]

    assert names[-2:] == ["files.jsonl", "manifest.json"]
    assert manifest["database"]["format"] == "sqlite"
    assert manifest["database"]["counts"]["recordings.segment"] == 6
    assert manifest["database"]["counts"]["attendance.facetemplate"] == 2
    assert manifest["versions"]["migrations"]["recordings"].startswith("0")
    assert manifest["totals"]["recordings"]["files"] == 6
    assert {entry["path"] for entry in listed} == set(names) - {"manifest.json", "files.jsonl"}
    assert manifest["files"]["count"] == len(listed)
    assert manifest["files"]["bytes"] == sum(entry["size"] for entry in listed)
    assert all(len(entry["sha256"]) == 64 for entry in listed)


def test_no_recordings_leaves_them_out(populated, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(populated, archive, "--no-recordings")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert not [name for name in names if name.startswith("recordings/")]
    assert [name for name in names if name.startswith("media/faces/")]


def test_since_keeps_only_newer_recordings(populated, tmp_path):
    import os

    old = populated.data_dir / "recordings" / "gate" / "2026-11-20" / "08-00-00.mp4"
    os.utime(old, (946684800, 946684800))  # 2000-01-01
    archive = tmp_path / "backup.tar.gz"
    backup(populated, archive, "--since", "2020-01-01")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "recordings/gate/2026-11-20/08-00-10.mp4" in names
    assert "recordings/gate/2026-11-20/08-00-00.mp4" not in names
    assert "database/ainvr.sqlite3" in names


def test_a_truncated_archive_is_refused_and_nothing_is_restored(made, fresh_install, tmp_path):
    _, archive, _ = made
    truncated = tmp_path / "truncated.tar.gz"
    data = archive.read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])

    result = fresh_install.manage("restore", str(truncated))

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "damaged or truncated" in result.stderr
    assert_nothing_restored(fresh_install)


@pytest.mark.parametrize("where", [0.02, 0.3, 0.7, 0.999])
def test_a_flipped_byte_is_refused_and_nothing_is_restored(made, fresh_install, tmp_path, where):
    _, archive, _ = made
    data = bytearray(archive.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))

    result = fresh_install.manage("restore", str(damaged))

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "damaged" in result.stderr
    assert_nothing_restored(fresh_install)


def test_a_changed_member_with_a_valid_gzip_is_refused_by_its_checksum(made, fresh_install, tmp_path):
    _, archive, _ = made
    plain = bytearray(gzip.decompress(archive.read_bytes()))
    with tarfile.open(archive) as tar:
        member = tar.getmember("recordings/hall/2026-11-20/08-00-10.mp4")
    plain[member.offset_data + 100] ^= 0xFF  # the tar stays well-formed; only the data changed
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(gzip.compress(bytes(plain)))

    result = fresh_install.manage("restore", str(tampered))

    assert result.returncode == 1
    assert "checksum mismatch on recordings/hall/2026-11-20/08-00-10.mp4" in result.stderr
    assert_nothing_restored(fresh_install)


def test_a_populated_install_is_refused_without_force(populated, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(populated, archive)
    before = rows(populated)

    result = populated.manage("restore", str(archive))

    assert result.returncode == 1
    assert "not empty (the database has users); restore with --force" in result.stderr
    assert rows(populated) == before


def test_force_replaces_a_populated_install(populated, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup(populated, archive)
    expected_rows, expected_files = rows(populated), data_files(populated)
    run_script(populated, "from attendance.models import Employee; Employee.objects.all().delete()")
    (populated.data_dir / "recordings" / "gate" / "2026-11-20" / "08-00-00.mp4").write_bytes(b"overwritten")

    result = populated.manage("restore", str(archive), "--force")

    assert result.returncode == 0, result.stderr
    assert rows(populated) == expected_rows
    assert data_files(populated) == expected_files


def test_an_existing_output_file_is_not_overwritten(populated, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    archive.write_bytes(b"precious")
    result = populated.manage("backup", "--output", str(archive))
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert archive.read_bytes() == b"precious"


def test_a_bad_since_date_is_one_line(populated, tmp_path):
    result = populated.manage("backup", "--output", str(tmp_path / "b.tar.gz"), "--since", "yesterday")
    assert result.returncode != 0
    assert "'yesterday' is not a date" in result.stderr
    assert not (tmp_path / "b.tar.gz").exists()


def assert_nothing_restored(install):
    assert files(install.data_dir / "recordings") == {}
    assert files(install.data_dir / "media") == {}
    leftovers = [p.name for p in install.data_dir.iterdir() if p.name.startswith(".ainvr-")]
    assert leftovers == []
    database = install.root / "ainvr.sqlite3"
    if database.exists():
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT name FROM sqlite_master WHERE name = 'accounts_user'").fetchall() == []


def test_a_tar_that_is_not_a_backup_is_refused(fresh_install, tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(stray, arcname="notes.txt")

    result = fresh_install.manage("restore", str(archive))

    assert result.returncode == 1
    assert "unexpected path 'notes.txt': not an AINVR backup" in result.stderr
    assert_nothing_restored(fresh_install)


def test_an_unreachable_database_is_one_line(fresh_install, tmp_path):
    result = fresh_install.manage(
        "backup", "--output", str(tmp_path / "b.tar.gz"), DATABASE_URL="postgres://nobody@127.0.0.1:1/none"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: the database failed:")
    assert result.stderr.strip().count("\n") == 0, result.stderr
