"""The capture pipeline against a real RTSP server: segments, drops, hangs.

Real clocks here (the server runs in real time); every wait is a loop with a deadline.
"""

from __future__ import annotations

import time

import pytest

from cameras.models import CameraStatus
from cameras.services import save_camera
from pipeline.capture import Backoff, CaptureWorker, StatusReporter
from pipeline.report_writer import free_disk, write_status
from pipeline.supervisor import camera_spec
from recordings.models import Segment
from recordings.services import record_segment
from tests.media import duration_of, video_packets

FRAME = 1 / 15


@pytest.fixture
def rtsp_camera(db, rtsp_server):
    from cameras.models import Camera

    return save_camera(Camera(name="Street", slug="street", stream_url=rtsp_server.url(), segment_seconds=2))


def make_worker(camera, root, *, read_timeout=2.0):
    spec = camera_spec(camera)
    return CaptureWorker(
        spec,
        recordings_root=root,
        status=StatusReporter(camera.pk, refresh_s=1.0, write=write_status),
        on_disk_full=free_disk,
        on_segment=lambda camera_id, closed: record_segment(camera_id=camera_id, closed=closed),
        backoff=Backoff(initial=0.2, cap=1.0),
        open_timeout=3.0,
        read_timeout=read_timeout,
    )


def run_until(worker, condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.step()
        if condition():
            return
    raise AssertionError(f"not within {timeout} s: {what}")


def state_of(camera):
    return CameraStatus.objects.get(camera=camera).state


def test_three_consecutive_segments_are_playable_and_exact(rtsp_camera, tmp_path):
    worker = make_worker(rtsp_camera, tmp_path)

    run_until(worker, lambda: Segment.objects.count() >= 3, 20, "three segments")
    worker.stop()

    segments = list(Segment.objects.order_by("start"))[:3]
    for before, after in zip(segments, segments[1:], strict=False):
        assert after.start == before.end
    for segment in segments:
        path = tmp_path / segment.path
        packets = video_packets(path)
        assert packets[0].is_keyframe
        assert abs(duration_of(path) - segment.duration) <= FRAME + 1e-6
        assert (segment.codec, segment.width, segment.height) == ("h264", 1280, 720)
        assert segment.size_bytes == path.stat().st_size > 0
    assert {round(s.duration) for s in segments} == {2}  # GOP 2 s = segment length


def test_a_killed_server_is_offline_within_seconds_and_recording_resumes_after_it(rtsp_camera, rtsp_server, tmp_path):
    worker = make_worker(rtsp_camera, tmp_path)
    run_until(worker, lambda: Segment.objects.count() >= 1, 15, "a first segment")
    assert state_of(rtsp_camera) == "online"

    rtsp_server.kill()
    killed_at = time.monotonic()
    run_until(worker, lambda: state_of(rtsp_camera) == "offline", 8, "offline after the kill")
    assert time.monotonic() - killed_at < 8
    last_before = Segment.objects.order_by("-end").first()

    rtsp_server.restart()
    restarted_at = time.monotonic()
    run_until(worker, lambda: state_of(rtsp_camera) == "online", 5, "online within 5 s of the restart")
    assert time.monotonic() - restarted_at < 5
    run_until(worker, lambda: Segment.objects.filter(start__gt=last_before.end).exists(), 10, "a new segment")
    worker.stop()

    after = Segment.objects.filter(start__gt=last_before.end).order_by("start").first()
    assert (after.start - last_before.end).total_seconds() > 2 * FRAME  # the gap shows in the index
    assert video_packets(tmp_path / after.path)[0].is_keyframe


def test_a_frozen_server_trips_the_read_timeout(rtsp_camera, rtsp_server, tmp_path):
    worker = make_worker(rtsp_camera, tmp_path, read_timeout=1.0)
    run_until(worker, lambda: state_of(rtsp_camera) == "online", 10, "online")

    rtsp_server.freeze()
    try:
        frozen_at = time.monotonic()
        run_until(worker, lambda: state_of(rtsp_camera) == "offline", 8, "offline after the freeze")
        waited = time.monotonic() - frozen_at
    finally:
        rtsp_server.thaw()
    worker.stop()

    assert waited < 8
    assert CameraStatus.objects.get(camera=rtsp_camera).last_error


@pytest.mark.parametrize(
    ("mount", "codec", "streams"), [("h265", "hevc", ["video"]), ("h264+aac", "h264", ["video", "audio"])]
)
def test_h265_and_audio_are_recorded_as_they_come(make_rtsp_server, db, tmp_path, mount, codec, streams):
    import av

    from cameras.models import Camera

    server = make_rtsp_server(mounts={"/cam": mount}, width=640, height=360, fps=15, gop=15)
    camera = save_camera(Camera(name="Cam", slug="cam", stream_url=server.url("/cam"), segment_seconds=1))
    worker = make_worker(camera, tmp_path)

    run_until(worker, lambda: Segment.objects.count() >= 2, 20, "two segments")
    worker.stop()

    segment = Segment.objects.order_by("start").first()
    assert segment.codec == codec
    with av.open(str(tmp_path / segment.path)) as container:
        assert [s.type for s in container.streams] == streams
        assert container.streams.video[0].codec_context.name == codec
    assert video_packets(tmp_path / segment.path)[0].is_keyframe
