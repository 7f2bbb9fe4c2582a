"""Segment files are created exclusively (O_CREAT|O_EXCL): two writers of one camera that
start a segment in the same second (another host, a process still closing) never share a
file, even where a check for the name would lie (NFS caches what it last saw)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from recordings.segments import create_segment_file
from tests.recordings.test_segment_writer import T0, remux


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from tests.media import make_clip

    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=4, fps=10, gop=10)


def test_a_name_another_writer_holds_is_never_written_over(clip, tmp_path, monkeypatch):
    theirs = tmp_path / "gate" / "2026-03-29" / "00-59-50.mp4"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"another host's recording")
    # A stale attribute cache: the file is there, but a look says it is not.
    monkeypatch.setattr(Path, "exists", lambda self, **kwargs: False)

    closed, _ = remux(clip, tmp_path, segment_seconds=10)

    assert theirs.read_bytes() == b"another host's recording"
    assert [segment.path.name for segment in closed] == ["00-59-50-2.mp4"]


def test_writers_racing_for_one_second_each_get_a_file_of_their_own(tmp_path):
    names, barrier = [], threading.Barrier(8)

    def writer():
        barrier.wait()
        names.append(create_segment_file(tmp_path, "gate", T0).name)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(names) == sorted(["00-59-50.mp4"] + [f"00-59-50-{n}.mp4" for n in range(2, 9)])
