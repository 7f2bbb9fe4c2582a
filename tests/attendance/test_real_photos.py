"""Recognition across real, different photos (tests/attendance/photos): the same man in
three photos taken at different times matches himself, another man and six strangers do
not, at the default threshold, and a group photo is refused for enrolment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from attendance.enrolment import EnrolmentRefused, embed_single_face
from attendance.models import EnrolmentStatus, FaceEnrolment, FaceTemplate
from attendance.recognition.matcher import TemplateMatrix
from tests.attendance.faces import GROUP_OF_SIX, OTHER_PERSON, PEOPLE, SAME_PERSON, jpeg, photo, real_photo

THRESHOLD = settings.ATTENDANCE_MATCH_THRESHOLD  # the shipped default (0.40), not a test value


def single_vector(backend, image) -> np.ndarray:
    (face,) = backend.detect(image)
    return backend.embed(image, face)


@pytest.fixture(scope="module")
def vectors(face_backend):
    obama = [single_vector(face_backend, real_photo(name)) for name in SAME_PERSON]
    biden = single_vector(face_backend, real_photo(OTHER_PERSON))
    group = real_photo(GROUP_OF_SIX)
    strangers = face_backend.embed_many(group, face_backend.detect(group))
    return {"obama": obama, "biden": biden, "strangers": strangers}


def test_the_six_faces_of_the_group_photo_are_all_found(face_backend):
    group = real_photo(GROUP_OF_SIX)
    faces = face_backend.detect(group)
    assert len(faces) == 6
    boxes = sorted(face.box for face in faces)
    # six different people side by side: no two boxes overlap
    for (ax1, _, ax2, _), (bx1, _, bx2, _) in itertools.pairwise(boxes):
        assert bx1 >= ax2 - 1, (ax1, ax2, bx1, bx2)


def test_the_same_man_matches_across_three_different_photos(vectors):
    same = [float(a @ b) for a, b in itertools.combinations(vectors["obama"], 2)]
    assert min(same) >= THRESHOLD, same


def test_two_different_men_do_not_match(vectors):
    across = [float(v @ vectors["biden"]) for v in vectors["obama"]]
    assert max(across) < THRESHOLD, across


def test_each_photo_of_him_finds_him_in_a_roster_and_the_others_stay_unknown(face_backend, vectors):
    # Roster: him from his first photo only, plus the demo camera's three people.
    roster = [vectors["obama"][0]] + [single_vector(face_backend, photo(name)) for name in PEOPLE]
    matrix = TemplateMatrix(np.stack(roster), np.array([1, 2, 3, 4]), threshold=THRESHOLD)
    assert [m.employee_id for m in matrix.match(np.stack(vectors["obama"][1:]))] == [1, 1]
    strangers = matrix.match(np.vstack([vectors["biden"][None, :], vectors["strangers"]]))
    assert len(strangers) == 7
    assert [m.employee_id for m in strangers] == [None] * 7, [round(m.similarity, 2) for m in strangers]


def test_the_group_photo_is_refused_for_enrolment_directly(face_backend):
    with pytest.raises(EnrolmentRefused, match="several faces found"):
        embed_single_face(face_backend, real_photo(GROUP_OF_SIX))
    vector, quality = embed_single_face(face_backend, real_photo(SAME_PERSON[0]))
    assert vector.shape == (128,) and quality > 0


@pytest.mark.usefixtures("media_root")
def test_uploading_the_group_photo_is_refused_and_his_photos_are_accepted(
    admin_client, employee_factory, run_jobs, django_capture_on_commit_callbacks
):
    barack = employee_factory("Barack Obama")
    files = [
        SimpleUploadedFile(name, jpeg(real_photo(name)), content_type="image/jpeg")
        for name in (GROUP_OF_SIX, *SAME_PERSON)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/attendance/employee/{barack.pk}/faces/", {"photos": files, "upload": "Upload"}
        )
    assert response.status_code == 302
    assert run_jobs() == 4
    group = FaceEnrolment.objects.order_by("pk").first()
    assert (group.status, group.reason, group.template) == (
        EnrolmentStatus.REFUSED,
        "several faces found; the photo must show exactly one",
        None,
    )
    assert FaceEnrolment.objects.filter(status=EnrolmentStatus.ACCEPTED).count() == 3
    assert FaceTemplate.objects.filter(employee=barack).count() == 3
