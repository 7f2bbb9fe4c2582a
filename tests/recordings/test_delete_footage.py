"""Settings → a camera → Delete footage: every recording of that camera, files and rows,
once its name is typed; admins only (issue 18, item 3: dangerous actions are deliberate)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recordings.models import Segment


def url(camera) -> str:
    return reverse("admin:recordings_segment_delete_footage", args=[camera.pk])


@pytest.fixture
def footage(camera, yard, make_segment, recordings_dir):
    start = timezone.now() - timedelta(days=2)
    gate = [make_segment(camera, start + timedelta(seconds=10 * i)) for i in range(3)]
    kept = make_segment(yard, start)
    return gate, kept


def test_the_page_says_what_would_go_and_deletes_nothing(admin_client, camera, footage):
    page = admin_client.get(url(camera)).content.decode()
    assert "has <strong>3 recordings</strong>" in page and "Type the camera's name" in page
    assert Segment.objects.count() == 4


def test_typing_the_name_deletes_the_files_and_rows_of_that_camera_only(admin_client, camera, footage, recordings_dir):
    gate, kept = footage
    response = admin_client.post(url(camera), {"confirm_name": camera.name}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:cameras_camera_change", args=[camera.pk])
    assert "Deleted 3 recordings of Gate" in response.content.decode()
    assert list(Segment.objects.all()) == [kept]
    assert not any((recordings_dir / s.path).exists() for s in gate)
    assert (recordings_dir / kept.path).exists()
    camera.refresh_from_db()  # the camera stays


@pytest.mark.parametrize("typed", ["", "gate", "Gate ", "Yard"])
def test_a_wrong_or_empty_name_deletes_nothing_and_says_why(admin_client, camera, footage, typed):
    response = admin_client.post(url(camera), {"confirm_name": typed.strip() + ("x" if typed == "Gate " else "")})
    assert response.status_code == 302
    assert Segment.objects.count() == 4
    page = admin_client.get(response["Location"]).content.decode()
    assert "Nothing deleted: type the camera&#x27;s name" in page


def test_only_admins_may(client, operator_client, camera, footage):
    assert operator_client.get(url(camera)).status_code in (302, 403)
    assert operator_client.post(url(camera), {"confirm_name": camera.name}).status_code in (302, 403)
    response = client.post(url(camera), {"confirm_name": camera.name})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Segment.objects.count() == 4


def test_an_unknown_camera_is_404(admin_client, db):
    assert admin_client.get("/admin/recordings/segment/delete-footage/999999/").status_code == 404


def test_a_camera_with_footage_points_from_its_pages_to_delete_footage(admin_client, camera, footage):
    change = admin_client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert url(camera) in change
    delete = admin_client.get(reverse("admin:cameras_camera_delete", args=[camera.pk])).content.decode()
    assert "has recordings: delete its footage first" in delete and url(camera) in delete


def test_then_the_camera_can_be_deleted(admin_client, camera, footage):
    admin_client.post(url(camera), {"confirm_name": camera.name})
    response = admin_client.post(
        reverse("admin:cameras_camera_delete", args=[camera.pk]), {"post": "yes", "confirm_name": camera.name}
    )
    assert response.status_code == 302
    assert not type(camera).objects.filter(pk=camera.pk).exists()
