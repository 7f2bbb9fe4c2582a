"""1:N matching: the best template wins when above the threshold, else unknown; the
cached matrix reloads only when the roster's signature changes."""

from __future__ import annotations

import numpy as np
import pytest

from attendance.recognition.matcher import RosterMatcher, TemplateMatrix


def unit(rng, n, d=128):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_each_query_gets_its_own_employee_among_many():
    rng = np.random.default_rng(1)
    templates = unit(rng, 5000)
    owners = np.arange(5000) // 5 + 100  # five templates per employee
    matrix = TemplateMatrix(templates, owners, threshold=0.4)
    picks = [17, 2345, 4999]
    noisy = templates[picks] + 0.05 * unit(rng, 3)
    matches = matrix.match(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    assert [m.employee_id for m in matches] == [int(owners[i]) for i in picks]
    assert all(m.similarity > 0.9 for m in matches)


def test_a_face_below_the_threshold_is_unknown():
    rng = np.random.default_rng(2)
    matrix = TemplateMatrix(unit(rng, 200), np.arange(200), threshold=0.4)
    (match,) = matrix.match(unit(rng, 1))  # random 128-d vectors: cosine ~ 0 +- 0.09
    assert match.employee_id is None and match.similarity < 0.4


def test_an_empty_roster_makes_everyone_unknown():
    matrix = TemplateMatrix.empty(128, threshold=0.4)
    assert [m.employee_id for m in matrix.match(np.ones((2, 128), np.float32))] == [None, None]


def test_the_matrix_is_rebuilt_only_when_the_signature_changes():
    rng = np.random.default_rng(3)
    roster = {"vectors": unit(rng, 3), "ids": np.array([1, 2, 3]), "signature": "v1"}
    now = [0.0]
    matcher = RosterMatcher(
        load=lambda: (roster["vectors"], roster["ids"]),
        signature=lambda: roster["signature"],
        dimension=128,
        threshold=0.4,
        recheck_seconds=10,
        monotonic=lambda: now[0],
    )
    assert matcher.match(roster["vectors"][1])[0].employee_id == 2
    now[0] = 30
    matcher.match(roster["vectors"][1])
    assert matcher.reloads == 1  # same signature: no reload
    roster.update(ids=np.array([1, 7, 3]), signature="v2")
    now[0] = 35  # changed, but not yet rechecked
    assert matcher.match(roster["vectors"][1])[0].employee_id == 2
    now[0] = 41
    assert matcher.match(roster["vectors"][1])[0].employee_id == 7
    assert matcher.reloads == 2


def test_a_failed_first_load_is_tried_again_at_the_next_match():
    # The database away at the worker's first frame: the next frame must load the roster,
    # not find no matrix until the recheck interval has passed.
    rng = np.random.default_rng(4)
    vectors, ids = unit(rng, 2), np.array([1, 2])
    database_up = [False]

    def load():
        if not database_up[0]:
            raise ConnectionError("database away")
        return vectors, ids

    matcher = RosterMatcher(load=load, signature=lambda: "v1", dimension=128, threshold=0.4, monotonic=lambda: 0.0)
    with pytest.raises(ConnectionError):
        matcher.match(vectors[0])
    database_up[0] = True
    assert matcher.match(vectors[1])[0].employee_id == 2


def test_the_reused_score_buffer_never_mixes_batches_of_different_sizes():
    rng = np.random.default_rng(4)
    templates = unit(rng, 300)
    matrix = TemplateMatrix(templates, np.arange(300), threshold=0.4)
    first = matrix.match(templates[7])
    batch = matrix.match(templates[[3, 150, 299, 42, 8, 9, 10, 11]])
    again = matrix.match(templates[[200]])
    assert [m.employee_id for m in first + batch + again] == [7, 3, 150, 299, 42, 8, 9, 10, 11, 200]
    assert first[0].similarity == pytest.approx(1.0, abs=1e-5)  # earlier results are plain numbers, not views


def test_the_worker_runs_blas_on_one_thread():
    from threadpoolctl import threadpool_info

    from attendance.recognition.matcher import use_one_blas_thread

    limiter = use_one_blas_thread()
    try:
        blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
        assert blas and all(lib["num_threads"] == 1 for lib in blas)
    finally:
        limiter.restore_original_limits()
