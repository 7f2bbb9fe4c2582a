"""The camera admin's "Test connection" action says what a stream carries or what is wrong."""

from __future__ import annotations

import http.server
import threading
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from cameras.admin import CameraAdmin
from cameras.models import Camera
from cameras.services import save_camera
from tests.conftest import CAMERA_PASSWORD, CAMERA_USERNAME

CHANGELIST = "/admin/cameras/camera/"
SECRETS = (CAMERA_USERNAME, CAMERA_PASSWORD, quote(CAMERA_USERNAME, safe=""), quote(CAMERA_PASSWORD, safe=""))


def add_camera(stream_url: str, detect_url: str = "", **credentials) -> Camera:
    return save_camera(Camera(name="Yard", slug="yard", stream_url=stream_url, detect_url=detect_url), **credentials)


def test_connection(client, camera: Camera) -> list[tuple[str, str]]:
    """Run the action on one camera; returns its messages as (level, text)."""
    response = client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [camera.pk]}, follow=True)
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in response.context["messages"]]


test_connection.__test__ = False  # a helper, despite its name


@pytest.fixture
def http_status_server():
    """An HTTP server answering GET /any/path?status=<status> with that status and no body."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(int(parse_qs(urlsplit(self.path).query)["status"][0]))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_it_names_the_codec_and_size_of_a_good_stream(admin_client, h264_clip):
    camera = add_camera(h264_clip.as_uri())

    assert test_connection(admin_client, camera) == [("success", "Yard (main stream): H264 320x240 at 10 fps")]


def test_it_tests_the_detect_stream_too(admin_client, h264_clip, closed_port):
    camera = add_camera(h264_clip.as_uri(), detect_url=f"rtsp://127.0.0.1:{closed_port}/sub")

    (main_level, main), (detect_level, detect) = test_connection(admin_client, camera)
    assert main_level == "success" and main.startswith("Yard (main stream): H264 320x240")
    assert detect_level == "error" and detect.startswith("Yard (detect stream): Connection refused")


def test_it_says_a_file_is_missing(admin_client, tmp_path):
    camera = add_camera((tmp_path / "gone.mp4").as_uri())

    [(level, text)] = test_connection(admin_client, camera)
    assert level == "error"
    assert f"Not found: {tmp_path / 'gone.mp4'}" in text


def test_it_says_the_connection_was_refused(admin_client, closed_port):
    camera = add_camera(f"rtsp://127.0.0.1:{closed_port}/x")

    [(level, text)] = test_connection(admin_client, camera)
    assert level == "error"
    assert text == (
        f"Yard (main stream): Connection refused by 127.0.0.1:{closed_port}: "
        "nothing listens there (check the address and port)."
    )


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_it_gives_up_on_a_silent_server_within_the_timeout(admin_client, silent_server, monkeypatch, scheme):
    timeout = 1.0
    monkeypatch.setattr(CameraAdmin, "probe_timeout_s", timeout)
    camera = add_camera(f"{scheme}://127.0.0.1:{silent_server}/stream")

    started = time.monotonic()
    [(level, text)] = test_connection(admin_client, camera)
    elapsed = time.monotonic() - started

    assert level == "error"
    assert f"No answer from 127.0.0.1:{silent_server} within 1 s" in text
    assert elapsed < 2 * timeout + 0.5


def test_its_messages_never_contain_the_credentials(admin_client, camera, closed_port, silent_server, monkeypatch):
    monkeypatch.setattr(CameraAdmin, "probe_timeout_s", 1.0)
    camera.stream_url = f"rtsp://127.0.0.1:{closed_port}/main"
    camera.detect_url = f"http://127.0.0.1:{silent_server}/sub"
    save_camera(camera)
    assert (camera.username, camera.password) == (CAMERA_USERNAME, CAMERA_PASSWORD)

    found = test_connection(admin_client, camera)

    assert len(found) == 2
    for _, text in found:
        assert not any(secret in text for secret in SECRETS), text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "refused the username or password"),
        (404, "answered but has no stream at that path"),
        (403, "Could not open the stream"),
        (500, "Could not open the stream"),
    ],
)
def test_http_errors_are_explained_without_the_credentials(admin_client, http_status_server, status, expected):
    camera = add_camera(
        f"http://127.0.0.1:{http_status_server}/video?status={status}",
        username=CAMERA_USERNAME,
        password=CAMERA_PASSWORD,
    )

    [(level, text)] = test_connection(admin_client, camera)
    assert level == "error"
    assert expected in text
    assert not any(secret in text for secret in SECRETS), text


def test_an_operator_cannot_run_it(operator_client, camera):
    response = operator_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [camera.pk]})
    assert response.status_code == 403


def test_a_number_in_the_path_is_not_taken_for_an_http_status(admin_client, http_status_server):
    # Hikvision numbers channel 4's main stream 401: that is a path, not "401 Unauthorized".
    camera = add_camera(f"http://127.0.0.1:{http_status_server}/Streaming/Channels/401?status=403")

    [(level, text)] = test_connection(admin_client, camera)
    assert level == "error"
    assert "username or password" not in text
    assert "403 Forbidden" in text


def test_it_says_a_host_name_does_not_resolve(admin_client):
    camera = add_camera("rtsp://gate-camera.invalid:554/main", username=CAMERA_USERNAME, password=CAMERA_PASSWORD)

    [(level, text)] = test_connection(admin_client, camera)
    assert (level, text) == ("error", "Yard (main stream): The host name gate-camera.invalid:554 does not resolve.")
