"""Capture processes run without Django and report over their own pipe; the supervisor
writes what they report. Driven with a real forkserver process and real pipes."""

from __future__ import annotations

import multiprocessing
import pickle
import time

import pytest

from cameras.models import CameraState, CameraStatus
from pipeline.forkserver import ProcessHandle
from pipeline.processes.capture import CaptureConfig
from pipeline.reports import ReportSender, SegmentReport, StatusReport, drain
from pipeline.specs import CameraSpec, CameraStates
from pipeline.supervisor import Supervisor
from recordings.models import Segment
from tests.media import make_clip


def collect_until(handle, messages, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain(handle.reports, messages.append)
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s; got {[m[:3] for m in messages]}")


def test_the_plain_states_are_the_models_states():
    assert {CameraStates.ONLINE, CameraStates.OFFLINE, CameraStates.ERROR} == set(CameraState.values)


def test_a_capture_process_records_and_reports_over_its_pipe(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=3, fps=10, gop=10)
    spec = CameraSpec(
        id=7, slug="porch", name="Porch", main_url=str(clip), detect_url=str(clip), record=True, segment_seconds=1
    )
    handle = ProcessHandle(spec, CaptureConfig(recordings_root=str(tmp_path / "rec")))
    messages = []
    try:
        collect_until(handle, messages, lambda: any(isinstance(m, SegmentReport) for m in messages), 30)
        handle.request_stop()
        assert handle.join(15)
        drain(handle.reports, messages.append)
    finally:
        if handle.is_alive():
            handle.kill()

    statuses = [m for m in messages if isinstance(m, StatusReport)]
    assert (statuses[0].camera_id, statuses[0].state) == (7, CameraStates.ONLINE)
    assert statuses[0].fields["codec"] == "h264"
    assert statuses[-1].state == CameraStates.OFFLINE and "stopped" in statuses[-1].fields["last_error"]
    closed = [m.closed for m in messages if isinstance(m, SegmentReport)]
    assert closed and all(c.path.is_file() and c.relative_path.startswith("porch/") for c in closed)
    assert handle.exitcode == 0


def test_a_message_cut_off_by_a_killed_process_spoils_only_its_pipe():
    reader, writer = multiprocessing.Pipe(duplex=False)
    ReportSender(writer).status(1, CameraStates.ONLINE, {})
    writer.send_bytes(pickle.dumps(StatusReport(1, CameraStates.OFFLINE, {}))[:9])  # half a message
    got = []

    applied, still_open = drain(reader, got.append)

    assert applied == 1 and got == [StatusReport(1, CameraStates.ONLINE, {})]
    assert not still_open


def test_a_sender_whose_supervisor_is_gone_says_so_instead_of_raising():
    reader, writer = multiprocessing.Pipe(duplex=False)
    reader.close()
    sender = ReportSender(writer)

    sender.status(1, CameraStates.ONLINE, {})

    assert sender.broken


class PipedProcess:
    """A process that has exited, leaving its reports in the pipe."""

    def __init__(self, spec):
        self.reports, self.child_end = multiprocessing.Pipe(duplex=False)
        self.alive = True
        self.exitcode = None
        self.pid = 1

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.alive, self.exitcode = False, 0

    def join(self, timeout):
        return True

    def kill(self):
        self.alive = False


@pytest.mark.django_db
def test_the_supervisor_writes_what_its_processes_report(camera, tmp_path):
    spawned = []
    supervisor = Supervisor(host="h", spawn=lambda spec: spawned.append(PipedProcess(spec)) or spawned[-1])
    supervisor.step()
    [process] = spawned
    sender = ReportSender(process.child_end)
    clip = make_clip(tmp_path / "seg.mp4", seconds=1, fps=10, gop=10)
    from datetime import UTC, datetime, timedelta

    from recordings.segments import ClosedSegment

    start = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    sender.status(camera.pk, CameraStates.ONLINE, {"codec": "h264", "width": 320, "height": 240, "last_error": ""})
    end = start + timedelta(seconds=1)
    sender.segment(camera.pk, ClosedSegment(clip, "gate/2026-11-22/08-00-00.mp4", start, end, 1234, "h264", 320, 240))

    assert supervisor.step()

    status = CameraStatus.objects.get(camera=camera)
    assert status.state == CameraState.ONLINE and status.codec == "h264" and status.width == 320
    segment = Segment.objects.get(camera=camera)
    assert segment.path == "gate/2026-11-22/08-00-00.mp4" and segment.size_bytes == 1234

    # Its last words are written even when it dies right after saying them.
    sender.status(camera.pk, CameraStates.ERROR, {"last_error": "Disk full."})
    process.alive, process.exitcode = False, -9
    supervisor.after_crash = lambda spec: None
    supervisor.step()
    assert CameraStatus.objects.get(camera=camera).last_error == "Disk full."


@pytest.mark.django_db
def test_a_refresh_is_one_update_and_a_change_of_state_is_broadcast(camera, django_assert_num_queries, monkeypatch):
    from cameras import services
    from pipeline.report_writer import write_status

    sent = []
    monkeypatch.setattr(services, "broadcast_on_commit", lambda group, event, payload: sent.append(payload["state"]))
    write_status(camera.pk, CameraStates.ONLINE, {"codec": "h264", "last_error": ""})
    assert sent == [CameraStates.ONLINE]

    with django_assert_num_queries(1):
        write_status(camera.pk, CameraStates.ONLINE, {"fps": 14.9})

    status = CameraStatus.objects.get(camera=camera)
    assert status.fps == 14.9 and status.codec == "h264" and status.last_frame_at is not None
    write_status(camera.pk, CameraStates.OFFLINE, {"last_error": "Gone.", "fps": None})
    assert sent == [CameraStates.ONLINE, CameraStates.OFFLINE]
    assert CameraStatus.objects.get(camera=camera).last_error == "Gone."
