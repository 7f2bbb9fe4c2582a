"""The Settings (admin) pages as an admin meets them: grouped by task, forms that save on the
first try and say what is wrong at the top."""

from __future__ import annotations

import pytest

from cameras.models import Camera, default_ai_classes

pytestmark = pytest.mark.django_db


def test_the_settings_index_is_grouped_by_what_an_admin_does(admin_client):
    app_list = admin_client.get("/admin/").context["app_list"]
    sections = [app["name"] for app in app_list]
    assert sections == [
        "Cameras", "Live layouts", "Recording and storage", "AI", "Attendance", "Notifications", "Users", "System",
    ]  # fmt: skip
    pages = {app["name"]: [m["object_name"] for m in app["models"]] for app in app_list}
    assert "Camera" in pages["Cameras"] and pages["Live layouts"] == ["DashboardLayout"]
    assert "Segment" in pages["Recording and storage"] and "AnalysisJob" in pages["AI"]
    assert "User" in pages["Users"] and "Employee" in pages["Attendance"] and "Rule" in pages["Notifications"]
    # Internals under System, nowhere else.
    assert {"Dashboard", "TokenProxy", "SystemStatus"} <= set(pages["System"])
    for name, models in pages.items():
        if name != "System":
            assert not {"Dashboard", "TokenProxy"} & set(models), name
    # An app's own page keeps Django's grouping.
    app_page = admin_client.get("/admin/cameras/").context["app_list"]
    assert [a["app_label"] for a in app_page] == ["cameras"]


def test_the_index_is_admin_only(operator_client, anon_client):
    assert operator_client.get("/admin/").status_code == 403
    assert anon_client.get("/admin/").status_code == 302


def camera_form(**overrides):
    """What a browser sends for the add form left at its defaults, with a name and a URL."""
    data = {
        "name": "Yard", "slug": "yard", "enabled": "on", "stream_url": "rtsp://192.0.2.20:554/main",
        "detect_url": "", "username_key": "user", "password_key": "password", "new_username": "",
        "new_password": "", "recording_enabled": "on", "segment_seconds": "60", "retention_days": "30",
        "ai_enabled": "on", "ai_confidence": "", "detect_fps": "5", "motion_gating": "on", "rotation": "0",
        "object_filters-TOTAL_FORMS": "0", "object_filters-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(overrides)
    return data


def initial_form_values(client) -> dict:
    """The add form's initial values, as the browser would submit them."""
    form = client.get("/admin/cameras/camera/add/").context["adminform"].form
    values = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False, ""):
            continue
        values[name] = value if not isinstance(value, bool) else "on"
    return values


def test_a_new_camera_saves_on_the_first_submit_with_the_form_defaults(admin_client):
    defaults = initial_form_values(admin_client)
    assert defaults["ai_classes"] == default_ai_classes() and "person" in defaults["ai_classes"]
    data = {**{k: v for k, v in camera_form().items() if k not in defaults}, **defaults}
    data.update(name="Yard", slug="yard", stream_url="rtsp://192.0.2.20:554/main")
    response = admin_client.post("/admin/cameras/camera/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    camera = Camera.objects.get(slug="yard")
    assert camera.ai_classes == default_ai_classes()


def test_errors_are_listed_at_the_top_of_the_camera_form(admin_client):
    response = admin_client.post("/admin/cameras/camera/add/", camera_form(stream_url="", ai_classes=["unicorn"]))
    assert response.status_code == 200
    html = response.content.decode()
    top = html[html.index("data-form-errors") : html.index("</div>", html.index("data-form-errors"))]
    assert 'href="#id_stream_url"' in top and 'href="#id_ai_classes"' in top
    assert html.index("data-form-errors") < html.index('name="name"')
    assert not Camera.objects.exists()


def test_deleting_a_camera_needs_its_name_typed(admin_client, camera):
    url = f"/admin/cameras/camera/{camera.pk}/delete/"
    page = admin_client.get(url).content.decode()
    assert 'name="confirm_name"' in page and camera.name in page
    for typed in ("", "gate", "Gate2"):
        response = admin_client.post(url, {"post": "yes", "confirm_name": typed}, follow=True)
        assert "Not deleted: type the camera" in response.content.decode()
        assert Camera.objects.filter(pk=camera.pk).exists()
    response = admin_client.post(url, {"post": "yes", "confirm_name": camera.name})
    assert response.status_code == 302 and not Camera.objects.filter(pk=camera.pk).exists()


def test_cameras_have_no_bulk_delete(admin_client, camera):
    page = admin_client.get("/admin/cameras/camera/").content.decode()
    assert 'value="delete_selected"' not in page
    response = admin_client.post(
        "/admin/cameras/camera/", {"action": "delete_selected", "_selected_action": [camera.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302) and Camera.objects.filter(pk=camera.pk).exists()
