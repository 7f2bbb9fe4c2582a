"""Retention deletes the oldest footage by age, by the size cap and for free disk, file
first then row, and never a file that has no row."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recordings import retention
from recordings.models import Segment
from recordings.retention import GB, RetentionTask, apply_retention, free_space_now
from tests.recordings.conftest import NOW, DiskUsage, relative_path

PLENTY = 10**15  # free bytes: the free-disk rule has nothing to do


def plenty_of_disk(path) -> DiskUsage:
    return DiskUsage(total=PLENTY, used=0, free=PLENTY)


def remaining(*cameras) -> list[str]:
    return sorted(Segment.objects.filter(camera__in=cameras).values_list("path", flat=True))


def test_it_deletes_each_cameras_segments_past_its_own_retention(camera, yard, make_segment, recordings_dir):
    gate_old, gate_just_ended, gate_straddling, gate_new = (
        make_segment(camera, NOW - timedelta(days=10)),
        make_segment(camera, NOW - timedelta(days=7, seconds=11)),  # ended 1 s before the cutoff
        make_segment(camera, NOW - timedelta(days=7, seconds=5)),  # ends 5 s after it
        make_segment(camera, NOW - timedelta(days=1)),
    )
    yard_old, yard_kept = make_segment(yard, NOW - timedelta(days=31)), make_segment(yard, NOW - timedelta(days=10))

    report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted == {"age": 3, "size_cap": 0, "free_disk": 0}
    assert remaining(camera, yard) == sorted([gate_straddling.path, gate_new.path, yard_kept.path])
    for gone in (gate_old, gate_just_ended, yard_old):
        assert not (recordings_dir / gone.path).exists()
    assert report.bytes_freed == sum(s.size_bytes for s in (gate_old, gate_just_ended, yard_old))
    assert report.errors == report.missing_files == 0


def test_it_deletes_the_oldest_across_cameras_down_to_the_size_cap(camera, yard, make_segment, storage):
    starts = [NOW - timedelta(hours=h) for h in (6, 5, 4, 3, 2, 1)]
    segments = [make_segment(camera if i % 2 else yard, start) for i, start in enumerate(starts)]
    size = segments[0].size_bytes
    assert all(s.size_bytes == size for s in segments)
    storage.max_total_gb = 3 * size / GB  # exactly three segments may stay
    storage.save()

    report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted == {"age": 0, "size_cap": 3, "free_disk": 0}
    assert remaining(camera, yard) == sorted(s.path for s in segments[3:])
    assert report.bytes_freed == 3 * size


def test_a_total_one_byte_over_the_cap_costs_the_oldest_segment(camera, make_segment, storage):
    segments = [make_segment(camera, NOW - timedelta(minutes=m), size=1000) for m in (30, 20, 10)]
    storage.max_total_gb = 2999 / GB
    storage.save()

    report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted["size_cap"] == 1
    assert remaining(camera) == sorted(s.path for s in segments[1:])


def test_it_deletes_the_oldest_until_the_minimum_is_free(camera, yard, make_segment, storage, fake_disk):
    segments = [
        make_segment(cam, NOW - timedelta(minutes=m))
        for cam, m in ((camera, 50), (yard, 40), (camera, 30), (yard, 20), (camera, 10))
    ]
    size = segments[0].size_bytes
    disk = fake_disk(free=1000)
    storage.min_free_gb = (1000 + 2.5 * size) / GB  # three files must go
    storage.save()

    report = apply_retention(now=NOW, disk_usage=disk)

    assert report.deleted == {"age": 0, "size_cap": 0, "free_disk": 3}
    assert remaining(camera, yard) == sorted(s.path for s in segments[3:])
    assert disk(disk.root).free >= storage.min_free_gb * GB
    assert set(disk.calls) == {disk.root}


def test_the_free_disk_rule_measures_again_after_each_batch(camera, make_segment, storage, fake_disk, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    segments = [make_segment(camera, NOW - timedelta(minutes=m), size=1000) for m in range(10, 0, -1)]
    disk = fake_disk(free=0)

    report = free_space_now(min_free_bytes=6500, disk_usage=disk)

    assert report.deleted["free_disk"] == 7
    assert remaining(camera) == sorted(s.path for s in segments[7:])
    assert len(disk.calls) == 1 + 4  # once before, then after each of the 4 batches (2+2+2+1)


def test_free_space_now_applies_only_the_free_disk_rule(camera, make_segment, storage, fake_disk):
    expired = make_segment(camera, NOW - timedelta(days=30))
    storage.max_total_gb = 0.1
    storage.save()

    report = free_space_now(min_free_bytes=10, disk_usage=fake_disk(free=100))

    assert report.deleted_total == 0
    assert remaining(camera) == [expired.path]


def test_it_never_touches_a_file_that_has_no_row(camera, make_segment, storage, fake_disk, recordings_dir, caplog):
    make_segment(camera, NOW - timedelta(days=20))
    make_segment(camera, NOW - timedelta(minutes=1))
    # The file a capture process is writing has no row yet; one in an old folder, named as the oldest, too.
    being_written = recordings_dir / relative_path("gate", NOW)
    being_written.write_bytes(b"moov")
    stray = recordings_dir / relative_path("gate", NOW - timedelta(days=30))
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"moov")
    storage.max_total_gb = 1 / GB  # one byte: the cap wants everything
    storage.min_free_gb = 1000.0
    storage.save()

    with caplog.at_level(logging.WARNING, logger="ainvr.retention"):
        report = apply_retention(now=NOW, disk_usage=fake_disk(free=0))

    assert Segment.objects.count() == 0
    assert report.deleted_total == 2
    assert being_written.read_bytes() == stray.read_bytes() == b"moov"
    assert "no recording is left to delete" in caplog.text


def test_it_removes_the_date_folders_it_empties(camera, make_segment, recordings_dir):
    make_segment(camera, NOW - timedelta(days=20))
    make_segment(camera, NOW - timedelta(days=20, hours=-1))
    make_segment(camera, NOW - timedelta(days=12, hours=12))
    kept = make_segment(camera, NOW - timedelta(days=6, hours=23))
    emptied = [recordings_dir / "gate" / "2026-11-02", recordings_dir / "gate" / "2026-11-10"]
    assert all(folder.is_dir() for folder in emptied)

    apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert not any(folder.exists() for folder in emptied)
    assert (recordings_dir / kept.path).is_file()
    assert sorted(p.name for p in (recordings_dir / "gate").iterdir()) == ["2026-11-15"]


def test_it_leaves_todays_folder_for_the_writer_even_when_emptied(
    camera, make_segment, storage, fake_disk, recordings_dir
):
    today = make_segment(camera, NOW - timedelta(minutes=5))
    storage.min_free_gb = 1.0
    storage.save()

    apply_retention(now=NOW, disk_usage=fake_disk(free=0))

    assert not Segment.objects.exists()
    folder = (recordings_dir / today.path).parent
    assert folder.is_dir() and not any(folder.iterdir())


def test_it_logs_one_line_per_deleted_segment_and_one_summary(camera, yard, make_segment, caplog):
    old = [make_segment(camera, NOW - timedelta(days=9)), make_segment(yard, NOW - timedelta(days=40))]
    make_segment(camera, NOW - timedelta(days=1))

    with caplog.at_level(logging.INFO, logger="ainvr.retention"):
        apply_retention(now=NOW, disk_usage=plenty_of_disk)

    lines = [r.getMessage() for r in caplog.records if r.name == "ainvr.retention"]
    assert len(lines) == 3
    for segment in old:
        (line,) = [line for line in lines if segment.path in line]
        assert segment.camera.slug in line and "age" in line and str(segment.size_bytes) in line
    assert "deleted 2 segments" in lines[-1]


def test_a_quiet_run_logs_nothing(camera, make_segment, caplog):
    make_segment(camera, NOW - timedelta(days=1))

    with caplog.at_level(logging.INFO, logger="ainvr.retention"):
        report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted_total == 0
    assert not [r for r in caplog.records if r.name == "ainvr.retention"]


def test_a_missing_file_still_deletes_its_row(camera, make_segment, recordings_dir, caplog):
    gone, present = make_segment(camera, NOW - timedelta(days=9)), make_segment(camera, NOW - timedelta(days=8))
    (recordings_dir / gone.path).unlink()

    with caplog.at_level(logging.INFO, logger="ainvr.retention"):
        report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert not Segment.objects.exists()
    assert report.deleted["age"] == 2 and report.missing_files == 1
    assert report.bytes_freed == present.size_bytes
    assert any(gone.path in r.getMessage() and "already missing" in r.getMessage() for r in caplog.records)


def undeletable_case(camera, make_segment, storage, recordings_dir):
    """The oldest segment's folder holds one file retention cannot delete; every rule wants it gone."""
    stuck = make_segment(camera, NOW - timedelta(days=30))
    others = [make_segment(camera, NOW - timedelta(days=d)) for d in (20, 1)]
    storage.max_total_gb = 1 / GB  # one byte: the cap wants everything
    storage.min_free_gb = 1000.0
    storage.save()
    return stuck, others


@pytest.mark.skipif(os.geteuid() == 0, reason="a read-only folder does not stop root")
def test_a_file_in_a_read_only_folder_is_skipped_and_counted(
    camera, make_segment, storage, recordings_dir, fake_disk, caplog
):
    stuck, others = undeletable_case(camera, make_segment, storage, recordings_dir)
    folder = (recordings_dir / stuck.path).parent
    folder.chmod(0o555)
    try:
        with caplog.at_level(logging.WARNING, logger="ainvr.retention"):
            report = apply_retention(now=NOW, disk_usage=fake_disk(free=0))
    finally:
        folder.chmod(0o755)

    assert list(Segment.objects.values_list("path", flat=True)) == [stuck.path]
    assert (recordings_dir / stuck.path).is_file()
    assert report.errors == 3  # once per rule, each passing over it once
    assert report.deleted_total == len(others)
    assert f"cannot delete {stuck.path}" in caplog.text


def test_a_path_that_cannot_be_unlinked_is_skipped_and_counted(
    camera, make_segment, storage, recordings_dir, fake_disk, caplog
):
    """Runs as root too: a folder where the file should be cannot be unlinked by anyone."""
    stuck, others = undeletable_case(camera, make_segment, storage, recordings_dir)
    file = recordings_dir / stuck.path
    file.unlink()
    (file / "inside").mkdir(parents=True)

    with caplog.at_level(logging.WARNING, logger="ainvr.retention"):
        report = apply_retention(now=NOW, disk_usage=fake_disk(free=0))

    assert list(Segment.objects.values_list("path", flat=True)) == [stuck.path]
    assert (file / "inside").is_dir()
    assert report.errors == 3
    assert report.deleted_total == len(others)
    assert f"cannot delete {stuck.path}" in caplog.text


def test_it_works_through_more_rows_than_a_batch_without_loading_them_all(camera, storage, recordings_dir):
    n = 2 * retention.BATCH_SIZE + 7
    rows = []
    for i in range(n):
        start = NOW - timedelta(days=10, minutes=i // 50)  # runs of 50 equal starts straddle the batches
        relative = f"gate/2026-11-12/{i:05d}.mp4"
        rows.append(Segment(camera=camera, start=start, end=start, duration=0, path=relative, size_bytes=10))
    (recordings_dir / "gate" / "2026-11-12").mkdir(parents=True)
    for row in rows:
        (recordings_dir / row.path).write_bytes(b"0123456789")
    Segment.objects.bulk_create(rows)

    with CaptureQueriesContext(connection) as queries:
        report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted["age"] == n and report.bytes_freed == 10 * n
    assert not Segment.objects.exists()
    assert not (recordings_dir / "gate" / "2026-11-12").exists()
    sqls = [q["sql"] for q in queries.captured_queries]
    batch_reads = [
        sql for sql in sqls if sql.startswith("SELECT") and "ORDER BY" in sql and "recordings_segment" in sql
    ]
    assert len(batch_reads) == 4  # 200 + 200 + 7, then an empty one
    assert all(f"LIMIT {retention.BATCH_SIZE}" in sql for sql in batch_reads)


def test_the_size_cap_works_across_batches(camera, yard, make_segment, storage, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 3)
    segments = [make_segment(camera if m % 2 else yard, NOW - timedelta(minutes=m), size=100) for m in range(10, 0, -1)]
    storage.max_total_gb = 250 / GB
    storage.save()

    report = apply_retention(now=NOW, disk_usage=plenty_of_disk)

    assert report.deleted["size_cap"] == 8
    assert remaining(camera, yard) == sorted(s.path for s in segments[8:])


def test_the_task_runs_retention_when_due(camera, make_segment):
    make_segment(camera, NOW - timedelta(days=9))
    ticks = iter([0.0, 59.9, 60.0, 61.0])
    task = RetentionTask(interval_s=60, clock=lambda: next(ticks), now=lambda: NOW, disk_usage=plenty_of_disk)
    assert task.last_report is None  # nothing ran on construction

    assert task.step() is True
    assert task.last_report.deleted["age"] == 1
    assert task.step() is False
    assert task.step() is True
    assert task.last_report.deleted_total == 0
    assert task.step() is False


def test_a_failing_run_is_logged_and_retried_next_interval(camera, caplog):
    ticks = iter([0.0, 30.0, 60.0])

    def broken_disk(path):
        raise OSError("the disk went away")

    task = RetentionTask(interval_s=60, clock=lambda: next(ticks), now=lambda: NOW, disk_usage=broken_disk)
    with caplog.at_level(logging.ERROR, logger="ainvr.retention"):
        assert task.step() is True
        assert task.step() is False
        assert task.step() is True
    assert caplog.text.count("retention: run failed") == 2
