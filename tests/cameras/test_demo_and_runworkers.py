"""`bootstrap --demo` adds a playable demo camera; `runworkers` starts and stops cleanly."""

from __future__ import annotations

import io
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.management import call_command

from cameras.demo import DEMO_SLUG, make_demo_clip
from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.probe import probe_stream
from cameras.url_text import local_path


@pytest.fixture(scope="session")
def demo_clip(tmp_path_factory) -> Path:
    """The demo clip, encoded once by the product's own encoder."""
    return make_demo_clip(tmp_path_factory.mktemp("demo-clip") / "demo.mp4")


def place_demo_clip(data_dir: Path, clip: Path) -> None:
    """Put the clip where `bootstrap --demo` looks first, so it needs no encoding."""
    (data_dir / "demo").mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, data_dir / "demo" / "demo.mp4")


@pytest.fixture
def demo_install(settings, tmp_path, demo_clip, db) -> Path:
    """A DATA_DIR of its own, with the clip in place."""
    settings.DATA_DIR = tmp_path
    place_demo_clip(tmp_path, demo_clip)
    return tmp_path


def bootstrap_demo() -> str:
    out = io.StringIO()
    call_command("bootstrap", "--demo", stdout=out)
    return out.getvalue()


def test_the_demo_camera_plays_a_generated_h264_clip(settings, tmp_path, db):
    settings.DATA_DIR = tmp_path  # no clip yet: bootstrap encodes it
    bootstrap_demo()

    camera = Camera.objects.get(slug=DEMO_SLUG)
    clip = local_path(camera.stream_url)
    assert clip == str(tmp_path / "demo" / "demo.mp4")
    with av.open(clip) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frame = next(container.decode(stream))
    assert (frame.width, frame.height) == (1280, 720)
    assert frame.to_ndarray(format="rgb24").std() > 0  # a picture, not a blank frame
    assert probe_stream(camera.stream_url).ok
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["demo.mp4"]  # no partial file left


def test_the_demo_clip_shows_photos_for_at_least_20_seconds(demo_clip):
    with av.open(str(demo_clip)) as container:
        stream = container.streams.video[0]
        seconds = container.duration / av.time_base
        fps = round(stream.average_rate)
        samples = [
            frame.to_ndarray(format="gray").astype(np.int16)
            for index, frame in enumerate(container.decode(stream))
            if index % (2 * fps) == 0  # one frame every 2 s
        ]

    assert seconds >= 20
    for picture in samples:  # photos: contrast and detail everywhere, not a gradient with a box on it
        assert picture.std() > 30
        assert np.abs(np.diff(picture, axis=1)).mean() > 1
    assert np.abs(samples[0] - samples[len(samples) // 2]).mean() > 20  # and not the same photo all along


def test_the_demo_camera_fills_slot_0_of_a_default_layout(demo_install):
    output = bootstrap_demo()

    layout = DashboardLayout.objects.get(is_default=True)
    assert [(slot.position, slot.camera.slug) for slot in layout.slots.all()] == [(0, DEMO_SLUG)]
    assert "Added the demo camera" in output


def test_running_demo_again_changes_nothing(demo_install):
    bootstrap_demo()
    snapshot = (
        list(Camera.objects.values_list("pk", "slug", "stream_url")),
        list(DashboardLayout.objects.values_list("pk", "is_default")),
        list(DashboardSlot.objects.values_list("pk", "layout_id", "position", "camera_id")),
    )

    output = bootstrap_demo()

    assert "Added the demo camera" not in output
    assert "password" not in output.lower()
    assert snapshot == (
        list(Camera.objects.values_list("pk", "slug", "stream_url")),
        list(DashboardLayout.objects.values_list("pk", "is_default")),
        list(DashboardSlot.objects.values_list("pk", "layout_id", "position", "camera_id")),
    )


def test_running_demo_again_brings_back_a_deleted_clip(demo_install):
    bootstrap_demo()
    clip = demo_install / "demo" / "demo.mp4"
    clip.unlink()

    bootstrap_demo()

    assert probe_stream(Camera.objects.get(slug=DEMO_SLUG).stream_url).describe().startswith("H264 1280x720")


def test_a_demo_camera_deleted_by_an_admin_stays_deleted(demo_install):
    bootstrap_demo()
    Camera.objects.get(slug=DEMO_SLUG).delete()

    output = bootstrap_demo()  # the next start of scripts/up

    assert not Camera.objects.filter(slug=DEMO_SLUG).exists()
    assert "Added the demo camera" not in output


def test_the_demo_joins_an_existing_default_layout(demo_install):
    layout = DashboardLayout.objects.create(name="Mine", columns=2, rows=1, is_default=True)

    bootstrap_demo()

    assert DashboardLayout.objects.get() == layout
    assert layout.slots.get().camera.slug == DEMO_SLUG


class Output:
    """The lines a process prints, waited on with a deadline instead of sleeps."""

    def __init__(self, process: subprocess.Popen):
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the process ended before printing {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n{''.join(self.seen)}")

    def rest(self) -> str:
        """Everything printed, once the process has closed its output."""
        self.thread.join(timeout=10)
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen)


@pytest.fixture
def started(install):
    """started(*args) -> (process, Output) for `manage.py <args>`; killed at the end if still running."""
    processes = []

    def start(*args: str):
        process = install.start(*args)
        processes.append(process)
        return process, Output(process)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def install_with_demo(install, demo_clip):
    """An install where `bootstrap --demo` ran."""
    place_demo_clip(install.data_dir, demo_clip)
    result = install.manage("bootstrap", "--demo")
    assert result.returncode == 0, result.stderr
    return install


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_runworkers_stops_cleanly_on_a_signal(started, stop_signal):
    process, output = started("runworkers")
    assert "cameras to supervise: none" in output.wait_for("cameras to supervise", timeout=30)

    process.send_signal(stop_signal)

    assert process.wait(timeout=5) == 0
    assert "runworkers: stopped" in output.rest()


def test_runworkers_names_the_cameras_it_supervises(install_with_demo, started):
    process, output = started("runworkers", "--camera", DEMO_SLUG)
    assert "cameras to supervise: Demo camera" in output.wait_for("cameras to supervise", timeout=30)

    process.terminate()
    assert process.wait(timeout=5) == 0


def test_runworkers_refuses_an_unknown_camera_with_one_line(install):
    result = install.manage("runworkers", "--camera", "nope")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == ["CommandError: no enabled camera with the slug(s): nope"]
