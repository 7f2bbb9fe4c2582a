"""Stream URLs and the credentials kept apart from them (cameras/streams.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from cameras.models import Camera
from cameras.selectors import stream_url_for_worker
from cameras.streams import (
    extract_credentials,
    split_credentials,
    validate_stream_url,
    with_credentials,
)
from cameras.url_text import local_path, redact

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


# --- issue 15, finding 9: what an RTSP request must never carry -------------------------
@pytest.mark.parametrize(
    "url",
    [
        "rtsp://192.0.2.10/main\r\nX-Injected: 1",
        "rtsp://192.0.2.10/main%0d%0aX-Injected:%201",
        "rtsp://192.0.2.10/main%0D%0AX-Injected:%201",
        "rtsp://192.0.2.10/main\nX-Injected: 1",
        "rtsp://192.0.2.10\r\n/main",
        "rtsp://cam%00.example.com/main",
        "rtsp://192.0.2.10%00/main",
        "rtsp://192.0.2.10/ma\x00in",
        "rtsp://192.0.2.10/ma\tin",
        "rtsp://192.0.2.10/ma\x7fin",
        "rtsp://192.0.2.10/ma%7Fin",
        "rtsp://192.0.2.10/ma%1bin",
        "/srv/clip\n.mp4",
    ],
)
def test_control_characters_raw_or_encoded_are_refused(url):
    with pytest.raises(ValidationError) as refused:
        validate_stream_url(url)
    assert refused.value.code == "control"
    assert refused.value.messages[0].startswith("Stream URL: ")


@pytest.mark.parametrize(
    "url",
    ["rtsp://192.0.2.10/my main", "rtsp://cam .example.com/main", "rtsp://192.0.2.10/main ", " rtsp://192.0.2.10/main"],
)
def test_spaces_in_a_url_are_refused(url):
    with pytest.raises(ValidationError) as refused:
        validate_stream_url(url)
    assert refused.value.code in {"space", "control"}


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://cam_1..example.com/main",
        "rtsp://-cam.example.com/main",
        "rtsp://cam%2eexample.com/main",
        "rtsp://999.1.1.1/main",
        "rtsp://192.0.2/main",
        "rtsp://[2001:db8::zz]/main",
        "rtsp://[192.0.2.10]/main",
        "rtsp://a" + "b" * 63 + ".example.com/main",
        "rtsp://cam!.example.com/main",
    ],
)
def test_a_host_that_is_no_host_name_or_address_is_refused(url):
    with pytest.raises(ValidationError) as refused:
        validate_stream_url(url)
    assert refused.value.code == "host"


@pytest.mark.parametrize("url", ["rtsp://192.0.2.10:0/main", "rtsp://192.0.2.10:65536/main", "rtsp://cam.lan:/main"])
def test_a_port_outside_1_to_65535_is_refused(url):
    with pytest.raises(ValidationError):
        validate_stream_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://192.0.2.10:65535/main",
        "rtsp://192.0.2.10:1/main",
        "rtsp://cam_1.lan/main",
        "rtsp://[fe80::1%25eth0]:554/main",
        "rtsp://localhost/main",
        "rtsp://192.0.2.10/my%20main",
        "/srv/my clips/gate.mp4",
    ],
)
def test_valid_hosts_ports_and_paths_are_accepted(url):
    validate_stream_url(url)


def test_the_refusal_never_quotes_the_url_it_may_hold_credentials_in():
    with pytest.raises(ValidationError) as refused:
        validate_stream_url("rtsp://admin:Hunter-2-secret@192.0.2.10/main\r\nX: 1")
    assert "Hunter-2-secret" not in " ".join(refused.value.messages)


# --- credentials in the query string, as cameras really take them -----------------------
@pytest.mark.parametrize(
    ("url", "clean", "keys"),
    [
        (  # Dahua
            "rtsp://192.0.2.10:554/cam/realmonitor?channel=1&subtype=0&user=admin&password=p%40ss",
            "rtsp://192.0.2.10:554/cam/realmonitor?channel=1&subtype=0",
            ("user", "password"),
        ),
        (  # Hikvision / Axis style
            "rtsp://192.0.2.10/Streaming/Channels/101?username=admin&password=p%40ss",
            "rtsp://192.0.2.10/Streaming/Channels/101",
            ("username", "password"),
        ),
        (  # Reolink (http-flv) style
            "http://192.0.2.10/flv?port=1935&app=bcs&stream=channel0_main.bcs&user=admin&password=p%40ss",
            "http://192.0.2.10/flv?port=1935&app=bcs&stream=channel0_main.bcs",
            ("user", "password"),
        ),
        ("rtsp://192.0.2.10/live?usr=admin&pwd=p%40ss", "rtsp://192.0.2.10/live", ("usr", "pwd")),
        ("rtsp://192.0.2.10/live?User=admin&PWD=p%40ss&ch=2", "rtsp://192.0.2.10/live?ch=2", ("User", "PWD")),
    ],
)
def test_query_string_credentials_are_split_out_and_their_keys_kept(url, clean, keys):
    split = extract_credentials(url)
    assert (split.url, split.username, split.password) == (clean, "admin", "p@ss")
    assert (split.username_key, split.password_key) == keys
    assert split_credentials(url) == (clean, "admin", "p@ss")


@pytest.mark.parametrize(("username", "password"), CREDENTIALS)
@pytest.mark.parametrize("keys", [("user", "password"), ("usr", "pwd"), ("username", "")])
def test_query_credentials_put_back_come_out_unchanged(username, password, keys):
    url = "rtsp://192.0.2.10/cam/realmonitor?channel=1&subtype=0"
    combined = with_credentials(url, username, password, username_key=keys[0], password_key=keys[1])
    split = extract_credentials(combined)
    assert (split.url, split.username, split.password) == (url, username, password)
    assert split.username_key == keys[0]
    assert split.password_key == (keys[1] if password else "")


def test_the_worker_url_puts_credentials_back_under_the_camera_s_keys():
    url = with_credentials("rtsp://192.0.2.10/live?ch=1", "admin", "p@ss&x", username_key="usr", password_key="pwd")
    assert url == "rtsp://192.0.2.10/live?ch=1&usr=admin&pwd=p%40ss%26x"


def test_a_url_with_control_characters_is_not_split_but_left_for_validation():
    url = "rtsp://192.0.2.10/live?user=admin&password=x%0d%0aX: 1"
    assert extract_credentials(url) == (url, "", "", "", "")


def test_redact_takes_userinfo_and_query_credentials_out_of_a_message():
    said = "rtsp://admin:pw1@192.0.2.10/a?user=admin2&pwd=pw2&ch=1: 401 Unauthorized"
    assert redact(said) == "rtsp://192.0.2.10/a?user=***&pwd=***&ch=1: 401 Unauthorized"


# --- through the admin form and the API -------------------------------------------------
def test_the_api_moves_query_credentials_into_the_camera(db, persona_api_client):
    body = {
        "name": "Dahua",
        "slug": "dahua",
        "stream_url": "rtsp://192.0.2.41/cam?channel=1&user=dh-User-5&password=dh-Pw-7",
    }
    response = persona_api_client("admin").post("/api/cameras/", body, format="json")
    assert response.status_code == 201, response.content
    assert b"dh-User-5" not in response.content and b"dh-Pw-7" not in response.content
    camera = Camera.objects.get(slug="dahua")
    assert (camera.stream_url, camera.username, camera.password) == (
        "rtsp://192.0.2.41/cam?channel=1",
        "dh-User-5",
        "dh-Pw-7",
    )
    assert stream_url_for_worker(camera) == "rtsp://192.0.2.41/cam?channel=1&user=dh-User-5&password=dh-Pw-7"


@pytest.mark.parametrize(
    "stream_url", ["rtsp://192.0.2.41/main\r\nX-Injected: 1", "rtsp://192.0.2.41/main%0d%0aX: 1", "rtsp://cam%00.lan/x"]
)
def test_the_api_refuses_an_injected_url_with_a_field_message(db, persona_api_client, stream_url):
    body = {"name": "Bad", "slug": "bad", "stream_url": stream_url}
    response = persona_api_client("admin").post("/api/cameras/", body, format="json")
    assert response.status_code == 400
    assert response.json()["stream_url"][0].startswith("Stream URL: ")
    assert not Camera.objects.filter(slug="bad").exists()


def test_the_admin_form_moves_query_credentials_and_never_echoes_them(admin_client):
    from tests.cameras.test_camera_admin import ADD_URL, camera_form

    typed = "rtsp://192.0.2.42/live?usr=frm-User-3&pwd=frm-Pw-9"
    refused = admin_client.post(ADD_URL, camera_form(stream_url=typed, segment_seconds="0"))
    assert refused.status_code == 200  # shown again for the segment length
    assert b"frm-User-3" not in refused.content and b"frm-Pw-9" not in refused.content

    response = admin_client.post(ADD_URL, camera_form(stream_url=typed))
    assert response.status_code == 302
    camera = Camera.objects.get(slug="yard")
    assert (camera.stream_url, camera.username, camera.password) == ("rtsp://192.0.2.42/live", "frm-User-3", "frm-Pw-9")
    assert (camera.username_key, camera.password_key) == ("usr", "pwd")


def test_the_admin_form_refuses_a_url_with_cr_lf(admin_client):
    from tests.cameras.test_camera_admin import ADD_URL, camera_form, form_errors

    errors = form_errors(admin_client.post(ADD_URL, camera_form(stream_url="rtsp://192.0.2.42/live%0D%0AX: 1")))
    assert errors["stream_url"][0].startswith("Stream URL: control characters")
