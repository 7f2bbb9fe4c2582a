"""Camera credentials are write-only: no API answer, admin page or schema ever shows them,
and the API changes them only when asked to."""

from __future__ import annotations

import html
import json
import socket
from urllib.parse import quote, quote_plus

import pytest

from cameras.models import Camera
from cameras.services import save_camera
from tests.conftest import CAMERA_PASSWORD, CAMERA_USERNAME


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), html.escape(secret), json.dumps(secret)[1:-1]}


SECRET_FORMS = _forms(CAMERA_USERNAME) | _forms(CAMERA_PASSWORD)


def assert_no_credentials(response, where: str) -> None:
    body = response.content.decode()
    leaked = sorted(form for form in SECRET_FORMS if form in body)
    assert not leaked, f"{where} shows {leaked}"


API_READS = [
    "/api/",
    "/api/cameras/",
    "/api/cameras/{camera}/",
    "/api/layouts/",
    "/api/layouts/{layout}/",
    "/api/segments/",
    "/api/segments/{segment}/",
    "/api/detections/",
    "/api/detections/{detection}/",
    "/api/analysis-jobs/",
    "/api/analysis-jobs/{job}/",
    "/api/employees/",
    "/api/employees/{employee}/",
    "/api/tracking/state",
]
# Attendance is admin-only (issue 6): operators get a 403, which must not leak either.
ADMIN_ONLY_READS = {"/api/employees/", "/api/employees/{employee}/", "/api/tracking/state"}


@pytest.mark.parametrize("renderer", ["json", "api"])  # "api": the browsable HTML pages, forms included
@pytest.mark.parametrize("url", API_READS)
@pytest.mark.parametrize("persona", ["admin", "operator"])
def test_no_api_answer_shows_camera_credentials(persona, url, renderer, world, persona_api_client):
    expected = 403 if persona == "operator" and url in ADMIN_ONLY_READS else 200
    url = url.format(**world.ids)
    if "format=" not in url:
        url += ("&" if "?" in url else "?") + f"format={renderer}"
    response = persona_api_client(persona).get(url)
    assert response.status_code == expected
    assert_no_credentials(response, url)


def test_the_api_options_answer_shows_no_credentials(world, persona_api_client):
    response = persona_api_client("admin").options("/api/cameras/gate/")
    assert response.status_code == 200
    assert_no_credentials(response, "OPTIONS /api/cameras/gate/")


ADMIN_CAMERA_PAGES = [
    "/admin/cameras/camera/",
    "/admin/cameras/camera/add/",
    "/admin/cameras/camera/{camera_pk}/change/",
    "/admin/cameras/camera/{camera_pk}/history/",
    "/admin/cameras/camera/{camera_pk}/delete/",
    "/admin/cameras/dashboardlayout/{layout}/change/",
    "/admin/notifications/rule/{notifications_rule}/change/",
    "/admin/autocomplete/?app_label=cameras&model_name=dashboardslot&field_name=camera",
]


@pytest.mark.parametrize("url", ADMIN_CAMERA_PAGES)
def test_no_admin_page_shows_camera_credentials(url, world, admin_client):
    url = url.format(**world.ids)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert_no_credentials(response, url)


def _admin_form(camera: Camera, **changes) -> dict:
    form = {
        "name": camera.name,
        "slug": camera.slug,
        "enabled": "on",
        "stream_url": camera.stream_url,
        "detect_url": camera.detect_url,
        "new_username": "",
        "new_password": "",
        "recording_enabled": "on",
        "segment_seconds": camera.segment_seconds,
        "retention_days": camera.retention_days,
        "ai_enabled": "on",
        "ai_classes": camera.ai_classes,
        "ai_confidence": "" if camera.ai_confidence is None else camera.ai_confidence,
        "detect_fps": camera.detect_fps,
        "motion_gating": "on",
        "rotation": camera.rotation,
        "object_filters-TOTAL_FORMS": "0",
        "object_filters-INITIAL_FORMS": "0",
    }
    form.update(changes)
    return form


def test_an_admin_form_edit_keeps_credentials_and_its_history_hides_them(camera, admin_client):
    url = f"/admin/cameras/camera/{camera.pk}/change/"
    response = admin_client.post(url, _admin_form(camera, name="Front gate"))
    assert response.status_code == 302, response.content[:2000]
    camera.refresh_from_db()
    assert (camera.name, camera.username, camera.password) == ("Front gate", CAMERA_USERNAME, CAMERA_PASSWORD)

    response = admin_client.post(url, _admin_form(camera, new_password="another-Secret-9"))
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.password == "another-Secret-9"
    history = admin_client.get(f"/admin/cameras/camera/{camera.pk}/history/")
    assert_no_credentials(history, "the camera's history")
    assert "another-Secret-9" not in history.content.decode()


def test_a_rejected_admin_form_does_not_show_the_stored_credentials(camera, admin_client):
    response = admin_client.post(
        f"/admin/cameras/camera/{camera.pk}/change/",
        _admin_form(camera, segment_seconds="0", new_password="typed-Now-1"),
    )
    assert response.status_code == 200  # the form again, with its error
    assert b"errornote" in response.content
    assert_no_credentials(response, "the rejected camera form")
    assert b"typed-Now-1" not in response.content  # a password input is never filled back in


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_connection_test_reports_without_credentials(camera, admin_client):
    camera.stream_url = f"rtsp://127.0.0.1:{_closed_port()}/main"
    camera.detect_url = ""
    save_camera(camera)
    response = admin_client.post(
        "/admin/cameras/camera/", {"action": "test_connection", "_selected_action": [camera.pk]}, follow=True
    )
    assert response.status_code == 200
    assert b"Gate (main stream)" in response.content  # the result was shown
    assert_no_credentials(response, "the connection test's message")


@pytest.mark.parametrize("url", ["/api/schema/", "/api/schema/?format=json", "/api/docs/"])
@pytest.mark.parametrize("persona", ["admin", "operator"])
def test_the_openapi_schema_shows_no_credentials(persona, url, world, persona_client):
    response = persona_client(persona).get(url)
    assert response.status_code == 200
    assert_no_credentials(response, url)


def test_an_admin_patch_without_credentials_keeps_them(camera, persona_api_client):
    response = persona_api_client("admin").patch("/api/cameras/gate/", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert_no_credentials(response, "the PATCH answer")
    camera.refresh_from_db()
    assert (camera.enabled, camera.username, camera.password) == (False, CAMERA_USERNAME, CAMERA_PASSWORD)


def test_an_admin_put_without_credentials_keeps_them(camera, persona_api_client):
    body = {"name": "Gate", "slug": "gate", "stream_url": "rtsp://192.0.2.11:554/main"}
    response = persona_api_client("admin").put("/api/cameras/gate/", body, format="json")
    assert response.status_code == 200
    camera.refresh_from_db()
    assert (camera.stream_url, camera.username, camera.password) == (
        body["stream_url"],
        CAMERA_USERNAME,
        CAMERA_PASSWORD,
    )


def test_an_admin_patch_with_an_empty_password_clears_only_the_password(camera, persona_api_client):
    response = persona_api_client("admin").patch("/api/cameras/gate/", {"password": ""}, format="json")
    assert response.status_code == 200
    assert response.json()["has_credentials"] is True  # the username is still there
    camera.refresh_from_db()
    assert (camera.username, camera.password) == (CAMERA_USERNAME, "")


def test_credentials_typed_into_a_url_move_into_their_fields(db, persona_api_client):
    body = {"name": "Yard", "slug": "yard", "stream_url": "rtsp://yard-user-Q1:yard-Pass-w8@192.0.2.40:554/x"}
    response = persona_api_client("admin").post("/api/cameras/", body, format="json")
    assert response.status_code == 201
    assert response.json()["stream_url"] == "rtsp://192.0.2.40:554/x"
    assert b"yard-user-Q1" not in response.content and b"yard-Pass-w8" not in response.content
    camera = Camera.objects.get(slug="yard")
    assert (camera.stream_url, camera.username, camera.password) == (
        "rtsp://192.0.2.40:554/x",
        "yard-user-Q1",
        "yard-Pass-w8",
    )


@pytest.mark.parametrize(
    "stream_url",
    [
        f"rtsp://{CAMERA_USERNAME}:{quote(CAMERA_PASSWORD, safe='')}@192.0.2.10:99999/main",  # a port out of range
        f"ftp://{CAMERA_USERNAME}:{quote(CAMERA_PASSWORD, safe='')}@192.0.2.10/main",  # a scheme not allowed
    ],
)
def test_a_rejected_camera_url_is_not_echoed_back(stream_url, db, persona_api_client):
    body = {"name": "Other", "slug": "other", "stream_url": stream_url}
    response = persona_api_client("admin").post("/api/cameras/", body, format="json")
    assert response.status_code == 400
    assert "stream_url" in response.json()
    assert_no_credentials(response, "the 400 answer")


@pytest.mark.parametrize("url", ["/api/cameras/", "/api/cameras/gate/"])
def test_operators_see_no_stream_urls(url, camera, persona_api_client):
    data = persona_api_client("operator").get(url).json()
    cameras = data["results"] if "results" in data else [data]
    assert [c["slug"] for c in cameras] == ["gate"]
    for shown in cameras:
        assert not {"stream_url", "detect_url", "username", "password"} & set(shown)


def test_admins_see_stream_urls_and_whether_credentials_are_set(camera, persona_api_client):
    shown = persona_api_client("admin").get("/api/cameras/gate/").json()
    assert shown["stream_url"] == "rtsp://192.0.2.10:554/main"
    assert shown["has_credentials"] is True
    assert not {"username", "password"} & set(shown)
