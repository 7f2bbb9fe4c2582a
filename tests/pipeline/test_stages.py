"""Shared stages (detector, face recogniser) run as supervised processes fed with frames
by the capture processes: real processes, a real clip, a probe stage."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from cameras.frames import Frame
from cameras.models import Camera
from cameras.services import save_camera
from pipeline.detect_stream import FanOutSink
from pipeline.processes.capture import frame_sink
from pipeline.specs import CameraSpec
from pipeline.stage_pool import StagePool, StageSpec
from pipeline.supervisor import Supervisor
from tests.media import make_clip


def wait_for(condition, timeout, what, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def probe(out, **kwargs):
    return StageSpec("probe", "tests.pipeline.stage_probe:record_frames", "detection", {"out": str(out), **kwargs})


def spec(**flags):
    base = dict(id=1, slug="a", name="A", main_url="/x.mp4", detect_url="/x.mp4", record=True, segment_seconds=10)
    return CameraSpec(**(base | flags))


def test_a_camera_feeds_only_the_stages_it_has_switched_on():
    queues = {"detection": object(), "attendance": object()}
    assert frame_sink(spec(ai_enabled=False), queues) is None
    assert frame_sink(spec(ai_enabled=True), queues).queue is queues["detection"]
    assert frame_sink(spec(ai_enabled=False, attendance_enabled=True), queues).queue is queues["attendance"]
    both = frame_sink(spec(ai_enabled=True, attendance_enabled=True), queues)
    assert isinstance(both, FanOutSink) and {s.queue for s in both.sinks} == set(queues.values())
    assert frame_sink(spec(ai_enabled=True), {}) is None  # no detector on this host


def test_a_stage_that_dies_is_restarted_and_all_stop_at_the_end(tmp_path):
    out = tmp_path / "frames.txt"
    pool = StagePool([probe(out, crash_after=1)])
    frame = Frame(1, datetime.now(UTC), np.zeros((36, 64, 3), np.uint8), 640, 360)
    try:
        pool.tend()
        first = pool.running["probe"].handle
        pool.queues["detection"].put(frame)
        wait_for(lambda: not first.is_alive(), 60, "the stage took a frame and crashed")
        wait_for(lambda: pool.running["probe"].handle not in (None, first), 30, "a new stage process", tick=pool.tend)
        pool.queues["detection"].put(frame)
        wait_for(lambda: len(lines(out)) == 2, 60, "the new process took the next frame")
    finally:
        pool.stop(10)
    assert lines(out) == ["1 64x36", "1 64x36"]
    assert all(run.handle is None for run in pool.running.values())


@pytest.mark.django_db(transaction=True)
def test_capture_processes_feed_the_detection_stage(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=4, fps=10, gop=10)
    on = save_camera(Camera(name="On", slug="on", stream_url=str(clip), ai_enabled=True, detect_fps=2))
    save_camera(Camera(name="Off", slug="off", stream_url=str(clip), ai_enabled=False))
    out = tmp_path / "frames.txt"
    supervisor = Supervisor(host="h", stages=StagePool([probe(out)]), after_crash=lambda spec: None)
    try:
        wait_for(lambda: len(lines(out)) >= 3, 90, "frames of the AI camera", tick=supervisor.step)
    finally:
        supervisor.stop()
    assert {line.split()[0] for line in lines(out)} == {str(on.pk)}  # the camera without AI sends none
    assert lines(out)[0].split()[1] == "320x240"


class FakeStage:
    def __init__(self, spec, queue):
        self.spec, self.queue = spec, queue
        self.alive, self.exitcode, self.stop_requested = True, None, False

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.stop_requested, self.alive = True, False

    def join(self, timeout):
        return not self.alive

    def kill(self):
        self.alive = False


def fake_pool():
    started = []
    specs = [
        StageSpec("detector-cpu", "x:y", "detection"),
        StageSpec("faces", "x:z", "attendance"),
    ]
    spawn = lambda spec, q: started.append(FakeStage(spec, q)) or started[-1]  # noqa: E731
    pool = StagePool(specs, spawn=spawn, make_queue=lambda size: object())
    return pool, started


def test_a_stage_runs_only_while_a_camera_needs_it():
    pool, started = fake_pool()

    pool.tend(100.0, wanted=set())
    assert started == []
    pool.tend(101.0, wanted={"detection"})
    assert [s.spec.name for s in started] == ["detector-cpu"]
    assert started[0].queue is pool.queues["detection"]

    pool.tend(102.0, wanted={"attendance"})
    assert started[0].stop_requested
    assert [s.spec.name for s in started] == ["detector-cpu", "faces"]


def test_a_stage_that_cannot_run_as_configured_is_not_restarted_at_once():
    pool, started = fake_pool()
    pool.tend(100.0, wanted={"detection"})
    started[0].alive, started[0].exitcode = False, 2  # e.g. the model file is missing

    for t in range(101, 400, 10):
        pool.tend(float(t), wanted={"detection"})
    assert len(started) == 1

    pool.tend(100.0 + 601, wanted={"detection"})
    assert len(started) == 2


def test_a_crashed_stage_is_restarted_after_a_backoff():
    pool, started = fake_pool()
    pool.tend(100.0, wanted={"detection"})
    started[0].alive, started[0].exitcode = False, -9

    pool.tend(100.1, wanted={"detection"})
    pool.tend(140.0, wanted={"detection"})
    assert len(started) == 2
