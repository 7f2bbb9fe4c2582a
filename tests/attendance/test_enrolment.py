"""Enrolment on the admin's employee page: photos go through an RQ job that accepts
exactly one good face and refuses anything else with its reason."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from attendance.models import EnrolmentStatus, FaceEnrolment, FaceTemplate
from tests.attendance.faces import NO_FACE, blurred, darkened, jpeg, photo, side_by_side

pytestmark = pytest.mark.usefixtures("media_root")


def faces_url(employee):
    return f"/admin/attendance/employee/{employee.pk}/faces/"


def upload(client, employee, *images, capture):
    files = [SimpleUploadedFile(f"face{i}.jpg", jpeg(im), content_type="image/jpeg") for i, im in enumerate(images)]
    with capture(execute=True):
        return client.post(faces_url(employee), {"photos": files, "upload": "Upload"})


def test_a_clear_photo_becomes_a_template_with_model_and_dimension(
    admin_client, employee_factory, run_jobs, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    response = upload(admin_client, grace, photo("hopper"), capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert FaceEnrolment.objects.get().status == EnrolmentStatus.PENDING
    assert FaceTemplate.objects.count() == 0  # the web process embedded nothing
    assert run_jobs() == 1
    enrolment = FaceEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.ACCEPTED, enrolment.reason
    template = enrolment.template
    assert template.employee == grace
    assert (template.model_name, template.dimension) == ("sface-2021dec-int8bq", 128)
    vector = np.frombuffer(bytes(template.embedding), np.float32)
    assert vector.shape == (128,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    page = admin_client.get(faces_url(grace)).content.decode()
    assert "Accepted" in page and "1 enrolled face photo" in page
    assert admin_client.get(f"{faces_url(grace)}{enrolment.pk}/photo/").status_code == 200


@pytest.mark.parametrize(
    ("make_image", "reason"),
    [
        (lambda: photo(NO_FACE), "no face found"),
        (lambda: side_by_side(photo("collins"), photo("hopper")), "several faces found"),
        (lambda: blurred(photo("hopper")), "face too blurred"),
        (lambda: darkened(photo("hopper")), "face too dark"),
        (lambda: __import__("cv2").resize(photo("hopper"), None, fx=0.25, fy=0.25), "face too small"),
    ],
)
def test_a_bad_photo_is_refused_with_its_reason(
    make_image, reason, admin_client, employee_factory, run_jobs, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    upload(admin_client, grace, make_image(), capture=django_capture_on_commit_callbacks)
    run_jobs()
    enrolment = FaceEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.REFUSED
    assert enrolment.reason.startswith(reason)
    assert FaceTemplate.objects.count() == 0
    assert reason in admin_client.get(faces_url(grace)).content.decode()


def test_several_photos_at_once_are_each_judged(
    admin_client, employee_factory, run_jobs, django_capture_on_commit_callbacks
):
    ada = employee_factory("Eileen Collins")
    upload(admin_client, ada, photo("collins"), photo(NO_FACE), capture=django_capture_on_commit_callbacks)
    assert run_jobs() == 2
    assert sorted(FaceEnrolment.objects.values_list("status", flat=True)) == ["accepted", "refused"]


def test_no_more_than_five_photos_per_employee(
    admin_client, employee_factory, rq_default_queue, django_capture_on_commit_callbacks
):
    grace = employee_factory("Grace Hopper")
    response = upload(admin_client, grace, *[photo("hopper")] * 6, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "at most 5 face photos" in response.content.decode()
    assert FaceEnrolment.objects.count() == 0 and len(rq_default_queue) == 0


def test_a_file_that_is_not_a_picture_is_refused_on_the_form(admin_client, employee_factory, rq_default_queue):
    grace = employee_factory("Grace Hopper")
    response = admin_client.post(
        faces_url(grace), {"photos": [SimpleUploadedFile("notes.txt", b"hello")], "upload": "Upload"}
    )
    assert response.status_code == 400
    assert "notes.txt: not an image" in response.content.decode()
    assert FaceEnrolment.objects.count() == 0


def test_operators_and_visitors_cannot_enrol(operator_client, anon_client, employee_factory):
    grace = employee_factory("Grace Hopper")
    assert operator_client.get(faces_url(grace)).status_code == 403
    assert anon_client.get(faces_url(grace)).status_code == 302


def test_capture_grabs_the_cameras_current_frame_in_the_job(
    admin_client, employee_factory, run_jobs, django_capture_on_commit_callbacks, make_rtsp_server, tmp_path
):
    from cameras.models import Camera
    from cameras.services import save_camera
    from tests.attendance.faces import make_face_clip, on_canvas

    clip = make_face_clip(tmp_path / "hopper.mp4", [on_canvas(photo("hopper"), scale=0.7)] * 100)
    server = make_rtsp_server(clip=clip)
    camera = save_camera(Camera(name="Desk", slug="desk", stream_url=server.url("/stream")))
    grace = employee_factory("Grace Hopper")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(faces_url(grace), {"camera": camera.pk, "capture": "Capture"})
    assert response.status_code == 302
    run_jobs()
    enrolment = FaceEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.ACCEPTED, enrolment.reason
    assert enrolment.camera == camera and enrolment.photo.name.endswith(".jpg")


def test_reembed_rebuilds_every_template(employee_factory, face_backend, monkeypatch):
    from django.core.management import call_command

    from attendance.enrolment import embed_single_face

    grace = employee_factory("Grace Hopper")
    vector, quality = embed_single_face(face_backend, photo("hopper"))
    from django.core.files.base import ContentFile

    template = FaceTemplate(employee=grace, embedding=b"\0" * 8, model_name="old-model", dimension=2, quality=0)
    template.photo.save("grace.jpg", ContentFile(jpeg(photo("hopper"))), save=False)
    template.save()
    monkeypatch.setattr("attendance.recognition.backend.face_backend_from_settings", lambda: face_backend)
    call_command("reembed")
    template.refresh_from_db()
    assert (template.model_name, template.dimension) == (face_backend.model_name, 128)
    assert float(np.frombuffer(bytes(template.embedding), np.float32) @ vector) > 0.99


def test_a_job_for_an_employee_who_meanwhile_got_five_photos_is_refused(employee_factory, enrol_photo, face_backend):
    from django.core.files.base import ContentFile

    from attendance.enrolment import enrol

    grace = employee_factory("Grace Hopper")
    for _ in range(5):
        enrol_photo(grace, photo("hopper"))
    late = FaceEnrolment(employee=grace)
    late.photo.save("late.jpg", ContentFile(jpeg(photo("hopper"))), save=True)
    enrol(late.pk, backend=face_backend)
    late.refresh_from_db()
    assert late.status == EnrolmentStatus.REFUSED and "already has 5 face photos" in late.reason
    assert grace.face_templates.count() == 5
