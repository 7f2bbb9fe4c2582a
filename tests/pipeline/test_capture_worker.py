"""CaptureWorker driven step by step with a real clip as the camera and fake clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.capture import Backoff, CaptureWorker, StatusReporter
from pipeline.specs import CameraSpec
from tests.media import make_clip, video_packets

T0 = datetime(2026, 5, 12, 10, 0, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def monotonic(self):
        return self.t

    def sleep(self, seconds):
        self.t += max(0.0, seconds)

    def wall(self):
        return T0 + timedelta(seconds=self.t)


def spec_for(url, **overrides):
    values = dict(id=1, slug="gate", name="Gate", main_url=url, detect_url=url, record=True, segment_seconds=2)
    values.update(overrides)
    return CameraSpec(**values)


def worker_for(url, root, clock, *, statuses, segments, open_source=None, probe=None, **spec):
    kwargs = {} if open_source is None else {"open_source": open_source}
    if probe is not None:
        kwargs["probe"] = probe
    return CaptureWorker(
        spec_for(url, **spec),
        recordings_root=root,
        status=StatusReporter(1, clock=clock.monotonic, write=lambda cid, state, fields: statuses.append(state)),
        on_segment=lambda cid, closed: segments.append(closed),
        on_disk_full=lambda cid, root: None,
        backoff=Backoff(initial=1.0, jitter=0.0),
        monotonic=clock.monotonic,
        wall_clock=clock.wall,
        sleep=clock.sleep,
        **kwargs,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "camera.mp4", seconds=5, fps=10, gop=10)


def run_until(worker, clock, seconds, limit=100_000):
    for _ in range(limit):
        if clock.t >= seconds:
            return
        worker.step()
    raise AssertionError("the worker made no progress")


def test_a_file_camera_plays_in_real_time_and_loops_into_continuous_segments(clip, tmp_path):
    clock, statuses, segments = FakeTime(), [], []
    worker = worker_for(str(clip), tmp_path, clock, statuses=statuses, segments=segments)

    run_until(worker, clock, 12.0)
    worker.stop()

    assert statuses[0] == "online"
    assert len(segments) >= 5
    for before, after in zip(segments, segments[1:], strict=False):
        assert after.start == before.end  # no gap and no overlap, across the loop too
    assert 12.0 <= (segments[-1].end - segments[0].start).total_seconds() < 12.5  # played in real time
    for segment in segments:
        assert video_packets(segment.path)[0].is_keyframe


def test_a_camera_that_refuses_is_offline_and_retried_with_backoff(tmp_path):
    clock, statuses, segments, attempts = FakeTime(), [], [], []

    def refuse(url, **timeouts):
        attempts.append(clock.t)
        raise ConnectionRefusedError(111, "Connection refused")

    # The camera's port answers (the probe says so) but its stream will not open.
    worker = worker_for(
        "rtsp://127.0.0.1:9/x",
        tmp_path,
        clock,
        statuses=statuses,
        segments=segments,
        open_source=refuse,
        probe=lambda address: True,
    )
    run_until(worker, clock, 10.0)

    assert statuses and set(statuses) == {"offline"}
    gaps = [round(b - a, 1) for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[:3] == [1.0, 2.0, 4.0]  # capped exponential backoff (jitter off here)


def test_a_camera_whose_port_is_closed_is_knocked_on_and_opened_only_now_and_then(tmp_path):
    clock, statuses, segments, attempts, knocks = FakeTime(), [], [], [], []

    def refuse(url, **timeouts):
        attempts.append(clock.t)
        raise ConnectionRefusedError(111, "Connection refused")

    def closed_port(address):
        knocks.append(address)
        return False

    worker = worker_for(
        "rtsp://127.0.0.1:9/x",
        tmp_path,
        clock,
        statuses=statuses,
        segments=segments,
        open_source=refuse,
        probe=closed_port,
    )
    run_until(worker, clock, 120.0)

    assert len(attempts) <= 5  # two minutes away: the first try and a blind open every 30 s
    assert worker.open_attempts == len(attempts)
    assert set(knocks) == {("127.0.0.1", 9)} and len(knocks) >= 100  # a cheap connect a second


def test_a_stream_that_comes_back_is_recorded_again(clip, tmp_path):
    clock, statuses, segments = FakeTime(), [], []
    state = {"up": False}

    def flaky(url, **timeouts):
        if not state["up"]:
            raise ConnectionRefusedError(111, "Connection refused")
        from cameras.probe import open_stream

        return open_stream(url, **timeouts)

    worker = worker_for(str(clip), tmp_path, clock, statuses=statuses, segments=segments, open_source=flaky)
    run_until(worker, clock, 3.0)
    state["up"] = True
    run_until(worker, clock, 9.0)
    worker.stop()

    assert statuses[0] == "offline" and "online" in statuses
    assert segments and segments[0].start >= T0 + timedelta(seconds=3)


def test_recording_off_reads_the_stream_but_writes_nothing(clip, tmp_path):
    clock, statuses, segments = FakeTime(), [], []
    worker = worker_for(str(clip), tmp_path, clock, statuses=statuses, segments=segments, record=False)

    run_until(worker, clock, 4.0)
    worker.stop()

    assert statuses[0] == "online"
    assert segments == [] and not list(tmp_path.rglob("*.mp4"))


def test_an_outage_is_logged_once_not_at_every_try(tmp_path, caplog):
    clock, statuses, segments, attempts = FakeTime(), [], [], []

    def refuse(url, **timeouts):
        attempts.append(clock.t)
        raise ConnectionRefusedError(111, "Connection refused")

    worker = worker_for(
        "rtsp://127.0.0.1:9/x",
        tmp_path,
        clock,
        statuses=statuses,
        segments=segments,
        open_source=refuse,
        probe=lambda address: True,  # the port answers: opens are tried, and fail, again and again
    )
    with caplog.at_level("DEBUG", logger="ainvr.capture"):
        run_until(worker, clock, 120.0)

    assert len(attempts) >= 5
    warnings = [r for r in caplog.records if r.name == "ainvr.capture" and r.levelname == "WARNING"]
    assert len(warnings) == 1 and "Connection refused" in warnings[0].getMessage()
