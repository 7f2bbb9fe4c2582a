"""Face photos and attendance snapshots are served to admins only, by a view of their own;
the general media view refuses them to everyone, however the path is spelled."""

from __future__ import annotations

import re

import pytest

JPEG = b"\xff\xd8\xff\xe0face-bytes\xff\xd9"
OLD_STYLE = ("faces/2026/12/employee-18.jpg", "attendance/2026/12/03/unknown-1.jpg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in (*OLD_STYLE, "snapshots/5.jpg"):
        path = settings.MEDIA_ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(JPEG)
    return settings.MEDIA_ROOT


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("name", OLD_STYLE)
def test_an_operator_cannot_download_a_face_photo_or_snapshot_by_its_old_path(operator_client, media, name):
    assert operator_client.get(f"/recordings/media/{name}").status_code == 404
    assert operator_client.get(f"/recordings/private/{name}").status_code == 403


@pytest.mark.parametrize("name", OLD_STYLE)
def test_the_general_media_view_refuses_private_files_to_admins_too(admin_client, media, name):
    assert admin_client.get(f"/recordings/media/{name}").status_code == 404


@pytest.mark.parametrize("name", OLD_STYLE)
def test_an_admin_gets_them_from_the_private_view(admin_client, media, name):
    response = admin_client.get(f"/recordings/private/{name}")
    assert response.status_code == 200
    assert body(response) == JPEG
    assert response["Content-Type"] == "image/jpeg"


def test_a_visitor_is_sent_to_the_login_page(anon_client, media):
    response = anon_client.get(f"/recordings/private/{OLD_STYLE[0]}")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "spelling",
    [
        "faces//2026/12/employee-18.jpg",
        "snapshots/../faces/2026/12/employee-18.jpg",
        "./faces/2026/12/employee-18.jpg",
        "faces/2026/12/./employee-18.jpg",
        "%66aces/2026/12/employee-18.jpg",
        "faces%2F2026%2F12%2Femployee-18.jpg",
        "shots/2026/12/employee-18.jpg",  # a symlink to faces/
    ],
)
def test_no_spelling_of_the_path_gets_past_the_general_view(operator_client, admin_client, media, spelling):
    (media / "shots").symlink_to(media / "faces")
    assert operator_client.get(f"/recordings/media/{spelling}").status_code == 404
    assert admin_client.get(f"/recordings/media/{spelling}").status_code == 404


def test_other_media_stay_with_the_general_view(operator_client, admin_client, media):
    assert operator_client.get("/recordings/media/snapshots/5.jpg").status_code == 200
    assert admin_client.get("/recordings/private/snapshots/5.jpg").status_code == 404


def test_behind_nginx_the_private_file_is_handed_over_with_x_accel_redirect(admin_client, media, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    response = admin_client.get(f"/recordings/private/{OLD_STYLE[0]}")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{OLD_STYLE[0]}"
    assert response.content == b""


def test_new_face_photos_and_snapshots_get_names_nobody_can_guess(db, media):
    from django.core.files.base import ContentFile

    from attendance.models import Employee, FaceEnrolment
    from attendance.presence import record_sighting

    employee = Employee.objects.create(code="E18", name="Grace Hopper")
    enrolment = FaceEnrolment(employee=employee)
    enrolment.photo.save("employee-18.jpg", ContentFile(JPEG), save=True)
    event = record_sighting(employee_id=None, camera_id=None, at=enrolment.created_at, similarity=None, snapshot=JPEG)
    random_part = r"\d{4}/\d{2}/[A-Za-z0-9_-]{22}\.jpg"
    assert re.fullmatch(rf"faces/{random_part}", enrolment.photo.name), enrolment.photo.name
    assert re.fullmatch(rf"attendance/{random_part}", event.snapshot.name), event.snapshot.name
    assert "employee" not in enrolment.photo.name
    assert (media / enrolment.photo.name).read_bytes() == JPEG


def test_the_attendance_event_admin_shows_the_snapshot_through_the_private_view(admin_client, db, media):
    from django.utils import timezone

    from attendance.models import AttendanceEvent
    from attendance.presence import record_sighting

    event = record_sighting(employee_id=None, camera_id=None, at=timezone.now(), similarity=None, snapshot=JPEG)
    page = admin_client.get(f"/admin/attendance/attendanceevent/{event.pk}/change/").content.decode()
    assert f'src="/recordings/private/{event.snapshot.name}"' in page
    assert 'href="/media/' not in page and 'src="/media/' not in page
    assert AttendanceEvent.objects.count() == 1
