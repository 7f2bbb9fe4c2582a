"""A full disk never stops the newest footage: the oldest goes, recording goes on."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import pytest

from cameras.models import Camera
from cameras.services import save_camera
from pipeline.capture import Backoff, CaptureWorker, StatusReporter
from pipeline.report_writer import free_disk
from pipeline.supervisor import camera_spec
from recordings.models import Segment, StorageSettings
from recordings.services import record_segment
from tests.media import duration_of, make_clip, video_packets
from tests.pipeline.test_capture_worker import T0, FakeTime

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="fills a small tmpfs, and mounting one needs root (CI runs as root)"
)


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_loses_the_oldest_footage_not_the_newest(db, tmp_path, small_disk, caplog):
    settings_row = StorageSettings.load()
    settings_row.min_free_gb = None  # no minimum set: the worker must still make room
    settings_row.save()
    clip = make_clip(tmp_path / "busy.mp4", seconds=4, fps=10, gop=10, noise=True)  # ~0.5 MB/s
    camera = save_camera(Camera(name="Busy", slug="busy", stream_url=str(clip), segment_seconds=1))
    clock = FakeTime()
    worker = CaptureWorker(
        camera_spec(camera),
        recordings_root=small_disk,
        status=StatusReporter(camera.pk, write=lambda *args: None),
        on_segment=lambda camera_id, closed: record_segment(camera_id=camera_id, closed=closed),
        on_disk_full=free_disk,
        backoff=Backoff(jitter=0.0),
        monotonic=clock.monotonic,
        wall_clock=clock.wall,
        sleep=clock.sleep,
    )

    with caplog.at_level("INFO"):
        while clock.t < 30:  # 15 MB through a 3 MB disk
            worker.step()
        worker.stop()

    assert "No space left on device" in caplog.text or "is the disk full?" in caplog.text  # it really filled up
    assert "free_disk" in caplog.text  # and retention made room
    newest = Segment.objects.order_by("-end").first()
    assert newest.end >= T0 + timedelta(seconds=28)  # recording went on to the end
    assert not Segment.objects.filter(start__lt=T0 + timedelta(seconds=10)).exists()  # the oldest went
    kept = list(Segment.objects.order_by("start"))
    assert len(kept) >= 2
    for segment in kept:  # what is indexed is what is on disk, cut files included
        path = small_disk / segment.path
        assert video_packets(path)[0].is_keyframe
        assert abs(duration_of(path) - segment.duration) <= 0.1 + 1e-6
