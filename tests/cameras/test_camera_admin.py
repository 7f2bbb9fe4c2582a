"""Adding and editing cameras in the admin; credentials are write-only."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from cameras.models import Camera
from tests.conftest import CAMERA_PASSWORD, CAMERA_USERNAME

ADD_URL = "/admin/cameras/camera/add/"


def camera_form(**overrides) -> dict:
    """A valid add/change form for the camera admin; None leaves a field out (a cleared checkbox)."""
    data = {
        "name": "Yard",
        "slug": "yard",
        "enabled": "on",
        "stream_url": "rtsp://192.0.2.20:554/main",
        "detect_url": "",
        "new_username": "",
        "new_password": "",
        "recording_enabled": "on",
        "segment_seconds": "10",
        "retention_days": "7",
        "ai_enabled": "on",
        "ai_classes": ["person", "car"],
        "ai_confidence": "",
        "detect_fps": "5",
        "motion_gating": "on",
        "rotation": "0",
        # The object filters inline, empty.
        "object_filters-TOTAL_FORMS": "0",
        "object_filters-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def change_url(camera: Camera) -> str:
    return f"/admin/cameras/camera/{camera.pk}/change/"


def form_errors(response) -> dict:
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    return response.context["adminform"].form.errors


def assert_no_credentials(html: str) -> None:
    for secret in (CAMERA_USERNAME, CAMERA_PASSWORD, quote(CAMERA_PASSWORD, safe="")):
        assert secret not in html


def test_an_admin_adds_a_camera_with_credentials(admin_client):
    response = admin_client.post(ADD_URL, camera_form(new_username=CAMERA_USERNAME, new_password=CAMERA_PASSWORD))

    assert response.status_code == 302
    camera = Camera.objects.get(slug="yard")
    assert (camera.username, camera.password) == (CAMERA_USERNAME, CAMERA_PASSWORD)
    assert camera.stream_url == "rtsp://192.0.2.20:554/main"
    assert camera.ai_classes == ["person", "car"]


def test_the_change_page_never_shows_the_credentials(admin_client, camera):
    html = admin_client.get(change_url(camera)).content.decode()

    assert_no_credentials(html)
    password_input = re.search(r'<input type="password" name="new_password"[^>]*>', html)
    assert password_input and "value=" not in password_input.group(0)
    username_input = re.search(r'<input type="text" name="new_username"[^>]*>', html)
    assert username_input and "value=" not in username_input.group(0)
    assert "Set (hidden)" in html


@pytest.mark.parametrize(
    "path", ["/admin/cameras/camera/", "/admin/cameras/camera/{pk}/history/", "/admin/cameras/camera/{pk}/delete/"]
)
def test_other_camera_pages_never_show_the_credentials(admin_client, camera, path):
    response = admin_client.get(path.format(pk=camera.pk))
    assert response.status_code == 200
    assert_no_credentials(response.content.decode())


def test_a_refused_form_never_shows_the_stored_credentials(admin_client, camera):
    response = admin_client.post(change_url(camera), camera_form(name="Gate", slug="gate", segment_seconds="0"))
    assert form_errors(response)["segment_seconds"]
    assert_no_credentials(response.content.decode())


def test_editing_without_typing_credentials_keeps_them(admin_client, camera):
    response = admin_client.post(change_url(camera), camera_form(name="Front gate", slug="gate"))

    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.name == "Front gate"
    assert (camera.username, camera.password) == (CAMERA_USERNAME, CAMERA_PASSWORD)


def test_typing_only_a_new_password_keeps_the_username(admin_client, camera):
    response = admin_client.post(change_url(camera), camera_form(name="Gate", slug="gate", new_password="n3w-Pass"))

    assert response.status_code == 302
    camera.refresh_from_db()
    assert (camera.username, camera.password) == (CAMERA_USERNAME, "n3w-Pass")


def test_clear_credentials_clears_them(admin_client, camera):
    response = admin_client.post(change_url(camera), camera_form(name="Gate", slug="gate", clear_credentials="on"))

    assert response.status_code == 302
    camera.refresh_from_db()
    assert (camera.username, camera.password) == ("", "")


def test_clearing_and_typing_credentials_at_once_is_refused(admin_client, camera):
    response = admin_client.post(
        change_url(camera), camera_form(name="Gate", slug="gate", clear_credentials="on", new_password="x-Y-z-123")
    )

    assert "Either clear the credentials or type new ones" in str(form_errors(response))
    camera.refresh_from_db()
    assert camera.password == CAMERA_PASSWORD


def test_credentials_typed_into_the_stream_url_are_split_out(admin_client):
    url = f"rtsp://{quote(CAMERA_USERNAME)}:{quote(CAMERA_PASSWORD, safe='')}@192.0.2.30:554/h264"
    response = admin_client.post(ADD_URL, camera_form(stream_url=url))

    assert response.status_code == 302
    camera = Camera.objects.get(slug="yard")
    assert camera.stream_url == "rtsp://192.0.2.30:554/h264"
    assert (camera.username, camera.password) == (CAMERA_USERNAME, CAMERA_PASSWORD)
    assert_no_credentials(admin_client.get(change_url(camera)).content.decode())


def test_credentials_typed_into_the_detect_url_are_split_out(admin_client):
    response = admin_client.post(ADD_URL, camera_form(detect_url="rtsp://viewer:pa%3Ass@192.0.2.30/sub"))

    assert response.status_code == 302
    camera = Camera.objects.get(slug="yard")
    assert camera.detect_url == "rtsp://192.0.2.30/sub"
    assert (camera.username, camera.password) == ("viewer", "pa:ss")


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "not a url", "rtsp://", "rtsp://192.0.2.1:99999/x", "rtsp://[::1/x", "rtsp://u:p@/x", "file://"],
)
def test_a_bad_stream_url_is_a_form_error(admin_client, url):
    response = admin_client.post(ADD_URL, camera_form(stream_url=url))

    assert form_errors(response)["stream_url"]
    assert not Camera.objects.exists()


def test_a_bad_detect_url_is_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, camera_form(detect_url="rtsp://192.0.2.1:70000/sub"))

    assert form_errors(response)["detect_url"]
    assert not Camera.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://192.0.2.1/main",
        "rtsps://[2001:db8::7]:322/live",
        "http://cam.lan/mjpeg",
        "file:///srv/clip.mp4",
        "/srv/clip.mp4",
    ],
)
def test_good_stream_urls_are_accepted(admin_client, url):
    response = admin_client.post(ADD_URL, camera_form(stream_url=url))

    assert response.status_code == 302
    assert Camera.objects.get(slug="yard").stream_url == url


@pytest.mark.parametrize(("seconds", "accepted"), [("0", False), ("1", True), ("3600", True), ("3601", False)])
def test_segment_length_is_1_to_3600_seconds(admin_client, seconds, accepted):
    response = admin_client.post(ADD_URL, camera_form(segment_seconds=seconds))

    if accepted:
        assert response.status_code == 302
        assert Camera.objects.get(slug="yard").segment_seconds == int(seconds)
    else:
        assert form_errors(response)["segment_seconds"]
        assert not Camera.objects.exists()


def test_object_classes_are_limited_to_coco_names(admin_client):
    response = admin_client.post(ADD_URL, camera_form(ai_classes=["person", "unicorn"]))

    assert "unicorn" in str(form_errors(response)["ai_classes"])
    assert not Camera.objects.exists()


def test_the_class_list_offers_the_coco_names(admin_client):
    html = admin_client.get(ADD_URL).content.decode()
    assert '<option value="teddy bear">' in html
    assert 'name="ai_classes"' in html and "multiple" in html


@pytest.mark.parametrize(("confidence", "accepted"), [("-0.01", False), ("0", True), ("1", True), ("1.01", False)])
def test_ai_confidence_is_0_to_1(admin_client, confidence, accepted):
    response = admin_client.post(ADD_URL, camera_form(ai_confidence=confidence))

    if accepted:
        assert response.status_code == 302
        assert Camera.objects.get(slug="yard").ai_confidence == float(confidence)
    else:
        assert form_errors(response)["ai_confidence"]
        assert not Camera.objects.exists()


def test_an_empty_threshold_is_the_models_and_the_form_says_what_it_is(admin_client):
    from core.model_scores import BUNDLED
    from detection.selectors import camera_ai_settings

    page = admin_client.get(ADD_URL).content.decode()
    assert f"the model's calibrated value, {BUNDLED.threshold:.2f}" in page
    assert admin_client.post(ADD_URL, camera_form(ai_confidence="")).status_code == 302
    camera = Camera.objects.get(slug="yard")
    assert camera.ai_confidence is None
    assert camera_ai_settings()[camera.pk].threshold == BUNDLED.threshold


def test_object_filters_are_saved_with_the_camera_and_checked(admin_client):
    rule = {
        "object_filters-TOTAL_FORMS": "1", "object_filters-0-label": "person", "object_filters-0-threshold": "0.4",
        "object_filters-0-min_frames": "5", "object_filters-0-min_area": "0.1", "object_filters-0-max_area": "20",
        "object_filters-0-min_ratio": "0.2", "object_filters-0-max_ratio": "1.2",
    }  # fmt: skip
    response = admin_client.post(ADD_URL, camera_form(**{**rule, "object_filters-0-max_area": "0.05"}))
    assert response.status_code == 200 and not Camera.objects.exists()
    assert "Must be at least the minimum area." in response.content.decode()
    assert admin_client.post(ADD_URL, camera_form(**rule)).status_code == 302
    saved = Camera.objects.get(slug="yard").object_filters.get()
    assert (saved.label, saved.threshold, saved.min_frames, saved.max_area) == ("person", 0.4, 5, 20.0)


def test_an_operator_cannot_add_a_camera(operator_client):
    response = operator_client.post(ADD_URL, camera_form())
    assert response.status_code == 403
    assert not Camera.objects.exists()
