"""Recorded files answer HTTP Range with 206, only from their folder, only to roles."""

from __future__ import annotations

import os

import pytest

from accounts.models import User
from tests.conftest import T0


@pytest.fixture
def segment(camera, add_segment):
    return add_segment(camera, T0)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def file_bytes(recordings_dir, segment) -> bytes:
    return (recordings_dir / segment.path).read_bytes()


def test_a_range_gets_206_with_exactly_those_bytes(operator_client, segment, recordings_dir):
    data = file_bytes(recordings_dir, segment)
    response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="bytes=100-1099")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert response["Content-Length"] == "1000"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == data[100:1100]


def test_an_open_ended_range_runs_to_the_end(operator_client, segment, recordings_dir):
    data = file_bytes(recordings_dir, segment)
    response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="bytes=500-")
    assert response.status_code == 206
    assert body(response) == data[500:]
    assert response["Content-Range"] == f"bytes 500-{len(data) - 1}/{len(data)}"


def test_a_suffix_range_gets_the_last_bytes(operator_client, segment, recordings_dir):
    data = file_bytes(recordings_dir, segment)
    response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="bytes=-300")
    assert response.status_code == 206
    assert body(response) == data[-300:]
    # A suffix longer than the file is the whole file, still as a 206.
    response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE=f"bytes=-{len(data) * 2}")
    assert response.status_code == 206
    assert body(response) == data


def test_a_range_past_the_end_is_416(operator_client, segment, recordings_dir):
    size = len(file_bytes(recordings_dir, segment))
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0", "bytes=50-10"):
        response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE=header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == f"bytes */{size}"


def test_no_range_gets_the_whole_file_and_says_ranges_work(operator_client, segment, recordings_dir):
    response = operator_client.get(f"/recordings/segments/{segment.pk}/")
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == file_bytes(recordings_dir, segment)
    # A unit we do not know is ignored, as RFC 9110 allows.
    assert operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="items=0-1").status_code == 200


def test_a_file_can_be_asked_for_by_its_relative_path(admin_client, segment, recordings_dir):
    response = admin_client.get(f"/recordings/files/{segment.path}", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert body(response) == file_bytes(recordings_dir, segment)[:10]


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "gate/../../secret.txt",
        "%2e%2e/secret.txt",
        "..%2fsecret.txt",
        "gate/%2e%2e/%2e%2e/secret.txt",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "gate\\..\\..\\secret.txt",
        "outside/secret.txt",  # a symlink inside the folder pointing out of it
    ],
)
def test_paths_outside_the_recordings_folder_are_refused(operator_client, recordings_dir, path):
    secret = recordings_dir.parent / "secret.txt"
    secret.write_text("not a recording")
    os.symlink(recordings_dir.parent, recordings_dir / "outside")
    response = operator_client.get("/recordings/files/" + path)
    assert response.status_code == 404
    assert b"not a recording" not in body(response)


def test_anonymous_visitors_are_sent_to_log_in(anon_client, segment):
    response = anon_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_user_without_a_role_is_refused(client, segment, db):
    nobody = User.objects.create_user("carol", password="x" * 12)
    User.objects.filter(pk=nobody.pk).update(role="")
    client.force_login(nobody)
    assert client.get(f"/recordings/segments/{segment.pk}/").status_code == 403


def test_behind_nginx_the_file_is_handed_over_with_x_accel_redirect(operator_client, segment, settings):
    settings.RECORDINGS_ACCEL_REDIRECT = "/protected-recordings/"
    response = operator_client.get(f"/recordings/segments/{segment.pk}/", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-recordings/{segment.path}"
    assert response["Content-Type"] == "video/mp4"
    assert response.content == b""


def test_media_files_are_served_from_the_media_folder_only(operator_client, media_dir, recordings_dir):
    (media_dir / "snapshots").mkdir()
    (media_dir / "snapshots" / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    response = operator_client.get("/recordings/media/snapshots/a.jpg", HTTP_RANGE="bytes=0-1")
    assert response.status_code == 206
    assert body(response) == b"\xff\xd8"
    assert operator_client.get("/recordings/media/../recordings/x.mp4").status_code == 404


def test_an_unknown_segment_is_404(operator_client, db, recordings_dir):
    assert operator_client.get("/recordings/segments/999999/").status_code == 404
