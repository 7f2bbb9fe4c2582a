"""Reconcile gives every recording file a row and drops rows whose file is gone: a
crash-truncated file gets its playable duration, unreadable ones are kept aside."""

from __future__ import annotations

import logging
import os
import shutil
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from recordings.media_info import probe_recording
from recordings.models import Segment
from recordings.reconcile import reconcile_recordings
from recordings.services import create_segment_row
from tests.recordings.conftest import relative_path, write_fragmented_mp4

START = datetime(2026, 11, 22, 3, 40, 10, 123456, tzinfo=UTC)
FPS = 10


@pytest.fixture(scope="session")
def long_recording(tmp_path_factory) -> Path:
    """Ten seconds (100 frames of noise, so every fragment is about the same size), with its start in the metadata."""
    return write_fragmented_mp4(
        tmp_path_factory.mktemp("long") / "long.mp4", frames=100, fps=FPS, start=START, noise=True
    )


def playable_seconds(full: Path, cut: int) -> float:
    """From the complete file: the span of the video packets lying wholly in its first `cut` bytes."""
    with av.open(str(full)) as container:
        stream = container.streams.video[0]
        kept = [(p.pts, p.duration) for p in container.demux(stream) if p.size and p.pos + p.size <= cut]
        return float((max(pts + duration for pts, duration in kept) - min(pts for pts, _ in kept)) * stream.time_base)


def place(recordings_dir: Path, source: Path, relative: str) -> Path:
    target = recordings_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


def header_only(source: Path) -> bytes:
    """The ftyp and empty moov boxes: what a writer killed before its first fragment leaves."""
    data = source.read_bytes()
    offset = 0
    while True:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"moof":
            return data[:offset]
        offset += size


def state(recordings_dir: Path) -> tuple[list, list]:
    rows = sorted(row_values(s) for s in Segment.objects.all())
    files = sorted(
        (str(p.relative_to(recordings_dir)), p.stat().st_size) for p in recordings_dir.rglob("*") if p.is_file()
    )
    return rows, files


def row_values(s: Segment) -> tuple:
    return (s.camera_id, s.start, s.end, s.duration, s.path, s.size_bytes, s.codec, s.width, s.height)


def test_a_truncated_fragmented_mp4_gets_a_row_with_its_playable_duration(camera, recordings_dir, long_recording):
    relative = relative_path("gate", START)
    file = place(recordings_dir, long_recording, relative)
    cut = int(file.stat().st_size * 0.6)
    os.truncate(file, cut)
    expected = playable_seconds(long_recording, cut)
    assert 4.5 < expected < 6.5

    report = reconcile_recordings()

    assert report.created == 1
    segment = Segment.objects.get()
    assert segment.camera == camera and segment.path == relative
    assert segment.start == START  # microseconds and all, from the metadata
    assert abs(segment.duration - expected) < 0.5 / FPS  # a packet cut short does not count, not even as a frame
    assert segment.end - segment.start == timedelta(seconds=segment.duration)
    assert (segment.codec, segment.width, segment.height) == ("h264", 320, 240)
    assert segment.size_bytes == cut


def test_a_complete_file_gets_its_full_duration(camera, recordings_dir, long_recording):
    place(recordings_dir, long_recording, relative_path("gate", START))

    reconcile_recordings()

    assert Segment.objects.get().duration == pytest.approx(100 / FPS)


def test_a_file_without_a_start_in_its_metadata_takes_it_from_its_name(camera, recordings_dir, clip):
    place(recordings_dir, clip, "gate/2026-11-22/03-40-10-2.mp4")

    reconcile_recordings()

    segment = Segment.objects.get()
    assert segment.start == datetime(2026, 11, 22, 3, 40, 10, tzinfo=UTC)
    assert segment.duration == pytest.approx(2.0)


def test_files_without_a_complete_video_packet_are_deleted(camera, recordings_dir, long_recording, caplog):
    header = header_only(long_recording)
    empty, no_fragment, half_a_frame = (
        recordings_dir / relative_path("gate", START + timedelta(seconds=s)) for s in (0, 10, 20)
    )
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    no_fragment.write_bytes(header)
    half_a_frame.write_bytes(long_recording.read_bytes()[: len(header) + 5000])  # the first keyframe, cut short
    assert probe_recording(no_fragment) is None

    with caplog.at_level(logging.WARNING, logger="ainvr.reconcile"):
        report = reconcile_recordings()

    assert report.deleted_files == 3
    assert not empty.exists() and not no_fragment.exists() and not half_a_frame.exists()
    assert not Segment.objects.exists()
    assert caplog.text.count("no complete video frame") == 3


def test_an_unreadable_file_is_moved_aside_not_deleted(camera, recordings_dir, caplog):
    relative = relative_path("gate", START)
    garbage = os.urandom(5000)
    file = recordings_dir / relative
    file.parent.mkdir(parents=True)
    file.write_bytes(garbage)

    with caplog.at_level(logging.WARNING, logger="ainvr.reconcile"):
        report = reconcile_recordings()

    assert report.damaged == 1
    assert not file.exists()
    assert (recordings_dir / "_damaged" / relative).read_bytes() == garbage
    assert not Segment.objects.exists()
    assert f"{relative} is unreadable" in caplog.text


def test_a_second_unreadable_file_of_the_same_name_does_not_overwrite_the_first(camera, recordings_dir):
    relative = relative_path("gate", START)
    for content in (b"first" * 100, b"second" * 100):
        (recordings_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (recordings_dir / relative).write_bytes(content)
        reconcile_recordings()

    aside = recordings_dir / "_damaged" / relative
    assert aside.read_bytes() == b"first" * 100
    assert aside.with_name("03-40-10.2.mp4").read_bytes() == b"second" * 100


def test_a_row_whose_file_vanished_is_deleted(camera, make_segment, recordings_dir, caplog):
    vanished = make_segment(camera, START)
    kept = make_segment(camera, START + timedelta(seconds=10))
    (recordings_dir / vanished.path).unlink()

    with caplog.at_level(logging.WARNING, logger="ainvr.reconcile"):
        report = reconcile_recordings()

    assert report.deleted_rows == 1 and report.created == 0
    assert list(Segment.objects.values_list("path", flat=True)) == [kept.path]
    assert f"deleted the row of {vanished.path}" in caplog.text


def test_rows_are_kept_when_the_cameras_whole_folder_is_missing(camera, make_segment, recordings_dir, caplog):
    """An unmounted recordings disk looks like this: the index must survive it."""
    segment = make_segment(camera, START)
    shutil.rmtree(recordings_dir / "gate")

    with caplog.at_level(logging.ERROR, logger="ainvr.reconcile"):
        report = reconcile_recordings()

    assert report.deleted_rows == 0 and report.errors == 1
    assert list(Segment.objects.values_list("path", flat=True)) == [segment.path]
    assert "rows kept" in caplog.text


def test_files_of_unknown_cameras_are_left_alone_and_logged_once(camera, recordings_dir, clip, caplog):
    files = [place(recordings_dir, clip, relative_path("porch", START + timedelta(seconds=s))) for s in (0, 10, 20)]

    with caplog.at_level(logging.WARNING, logger="ainvr.reconcile"):
        report = reconcile_recordings()

    assert report.unknown_folders == ["porch"]
    assert all(file.exists() for file in files)
    assert not Segment.objects.exists()
    assert len([r for r in caplog.records if "porch" in r.getMessage()]) == 1


def test_only_the_given_cameras_are_reconciled(camera, yard, recordings_dir, clip):
    place(recordings_dir, clip, relative_path("gate", START))
    place(recordings_dir, clip, relative_path("yard", START))

    report = reconcile_recordings(cameras=[yard])

    assert report.created == 1 and report.unknown_folders == []
    assert list(Segment.objects.values_list("path", flat=True)) == [relative_path("yard", START)]


def test_running_twice_changes_nothing(camera, yard, make_segment, recordings_dir, long_recording, clip):
    make_segment(camera, START - timedelta(hours=1))
    vanished = make_segment(yard, START - timedelta(hours=1))
    (recordings_dir / vanished.path).unlink()
    truncated = place(recordings_dir, long_recording, relative_path("gate", START))
    os.truncate(truncated, truncated.stat().st_size // 2)
    place(recordings_dir, clip, relative_path("yard", START))
    (recordings_dir / relative_path("yard", START + timedelta(seconds=10))).write_bytes(b"")
    (recordings_dir / relative_path("yard", START + timedelta(seconds=20))).write_bytes(b"junk" * 1000)
    place(recordings_dir, clip, relative_path("porch", START))

    first = reconcile_recordings()
    after_first = state(recordings_dir)
    second = reconcile_recordings()

    assert (first.created, first.deleted_files, first.damaged, first.deleted_rows) == (2, 1, 1, 1)
    assert (second.created, second.deleted_files, second.damaged, second.deleted_rows, second.errors) == (0, 0, 0, 0, 0)
    assert state(recordings_dir) == after_first
    assert Segment.objects.count() == 3


def test_it_sees_every_file_of_a_folder_holding_more_than_a_query_chunk(camera, recordings_dir, clip, monkeypatch):
    from recordings import reconcile

    monkeypatch.setattr(reconcile, "CHUNK", 2)
    relatives = [relative_path("gate", START + timedelta(seconds=10 * i)) for i in range(5)]
    for relative in relatives:
        place(recordings_dir, clip, relative)
    create_segment_row(
        camera=camera, start=START, end=START + timedelta(seconds=2), path=relatives[0], size_bytes=clip.stat().st_size
    )

    report = reconcile_recordings()

    assert report.created == 4 and report.deleted_rows == 0
    assert sorted(Segment.objects.values_list("path", flat=True)) == relatives


# --- create_segment_row ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end": START - timedelta(seconds=1)}, "ends before it starts"),
        ({"start": START.replace(tzinfo=None)}, "timezone-aware"),
        ({"path": "/srv/recordings/gate/2026-11-22/03-40-10.mp4"}, "relative"),
        ({"path": "gate/../../etc/passwd"}, "not under RECORDINGS_DIR"),
        ({"path": "yard/2026-11-22/03-40-10.mp4"}, "not in the folder of camera 'gate'"),
        ({"size_bytes": -1}, "negative"),
    ],
)
def test_create_segment_row_refuses_bad_values(camera, change, message):
    values = {"camera": camera, "start": START, "end": START + timedelta(seconds=10), "path": "gate/a.mp4"}
    values |= {"size_bytes": 1} | change
    with pytest.raises(ValueError, match=message):
        create_segment_row(**values)
    assert not Segment.objects.exists()


def test_create_segment_row_stores_a_normalised_path_and_the_duration(camera):
    segment = create_segment_row(
        camera=camera,
        start=START,
        end=START + timedelta(seconds=9.5),
        path=Path("gate//2026-11-22/./03-40-10.mp4"),
        size_bytes=1234,
        codec="hevc",
        width=1920,
        height=1080,
    )
    segment.refresh_from_db()
    assert segment.path == "gate/2026-11-22/03-40-10.mp4"
    assert segment.duration == 9.5
    assert row_values(segment)[6:] == ("hevc", 1920, 1080)
