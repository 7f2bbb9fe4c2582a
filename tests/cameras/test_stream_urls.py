"""Stream URLs and the credentials kept apart from them (cameras/streams.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from cameras.streams import local_path, split_credentials, validate_stream_url, with_credentials

URLS = [
    "rtsp://192.0.2.10:554/Streaming/Channels/101",
    "rtsp://192.0.2.10/main?channel=1&subtype=0",
    "rtsps://cam.example.com:322/live",
    "http://[2001:db8::5]:8080/video.mjpg",
    "rtsp://[fe80::1]/h264",
    "rtsp://[::1]:8554/x",
]
CREDENTIALS = [
    ("admin", "p@ss"),
    ("admin", "a:b:c"),
    ("admin", "sl/ash"),
    ("admin", "50%off"),
    ("admin", "%41%42"),
    ("admin", "#?&=+ ;,"),
    ("admin", "ünïcødé-pässwörd"),
    ("dom\\us:er@x", "p@:/%"),
    ("viewer", ""),
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(("username", "password"), CREDENTIALS)
def test_credentials_put_into_a_url_come_back_out_unchanged(url, username, password):
    assert split_credentials(with_credentials(url, username, password)) == (url, username, password)


@pytest.mark.parametrize("url", URLS)
def test_the_url_with_credentials_keeps_host_port_and_path(url):
    combined, plain = urlsplit(with_credentials(url, "admin", "p@ss:/%")), urlsplit(url)
    assert (combined.hostname, combined.port, combined.path, combined.query) == (
        plain.hostname, plain.port, plain.path, plain.query,
    )  # fmt: skip


def test_special_characters_are_escaped_in_the_url():
    url = with_credentials("rtsp://192.0.2.10:554/main", "ad:min", "p@ss/w:rd%")
    assert url == "rtsp://ad%3Amin:p%40ss%2Fw%3Ard%25@192.0.2.10:554/main"


def test_it_splits_credentials_typed_as_is():
    assert split_credentials("rtsp://admin:p@ss@192.0.2.10:554/main") == ("rtsp://192.0.2.10:554/main", "admin", "p@ss")


def test_it_splits_credentials_from_an_ipv6_url():
    assert split_credentials("rtsp://admin:s3cr%2Ft@[2001:db8::5]:554/main") == (
        "rtsp://[2001:db8::5]:554/main", "admin", "s3cr/t",
    )  # fmt: skip


def test_it_splits_a_username_without_a_password():
    assert split_credentials("rtsp://viewer@192.0.2.10/sub") == ("rtsp://192.0.2.10/sub", "viewer", "")


@pytest.mark.parametrize("url", ["", "/srv/clip.mp4", "rtsp://192.0.2.10/main", "file:///srv/clip.mp4", *URLS])
def test_a_url_without_credentials_is_left_as_it_is(url):
    assert split_credentials(url) == (url, "", "")


@pytest.mark.parametrize("url", ["rtsp://u:p@[::1/x", "rtsp://u:p@host:99999/x", "rtsp://u:p@host:port/x"])
def test_splitting_a_malformed_url_leaves_it_for_validation(url):
    assert split_credentials(url) == (url, "", "")
    with pytest.raises(ValidationError):
        validate_stream_url(url)


@pytest.mark.parametrize("url", ["", "/srv/clip.mp4", "rtsp://192.0.2.10/main"])
def test_with_no_credentials_the_url_is_unchanged(url):
    assert with_credentials(url, "", "") == url


def test_a_bare_path_gets_no_credentials():
    assert with_credentials("/srv/clip.mp4", "admin", "pw") == "/srv/clip.mp4"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/srv/clips/gate.mp4", "/srv/clips/gate.mp4"),
        ("file:///srv/clips/gate.mp4", "/srv/clips/gate.mp4"),
        ("file:///srv/my%20clips/gate%231.mp4", "/srv/my clips/gate#1.mp4"),
        ("FILE:///srv/clip.mp4", "/srv/clip.mp4"),
        ("file://localhost/srv/clip.mp4", "/srv/clip.mp4"),
        ("rtsp://192.0.2.10/main", None),
        ("http://192.0.2.10/clip.mp4", None),
    ],
)
def test_local_path_is_the_file_behind_a_file_url_or_path(url, path):
    assert local_path(url) == path


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/srv/clip.mp4",
        "file:///srv/clip.mp4",
        "file://localhost/srv/clip.mp4",
        "rtsp://192.0.2.10:554/main",
        "RTSP://cam.example.com/main",
        "rtsps://[2001:db8::5]:322/live",
        "http://cam.lan/mjpeg",
        "https://cam.lan:8443/hls.m3u8",
    ],
)
def test_validate_accepts_camera_sources(url):
    validate_stream_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "not a url",
        "cam.lan/main",
        "rtsp://",
        "rtsp:///main",
        "rtsp://192.0.2.10:99999/main",
        "rtsp://192.0.2.10:-1/main",
        "rtsp://[::1/x",
        "file://",
        "file:clip.mp4",
        "file://otherhost/srv/clip.mp4",
        "javascript:alert(1)",
    ],
)
def test_validate_refuses_what_is_not_a_camera_source(url):
    with pytest.raises(ValidationError):
        validate_stream_url(url)
