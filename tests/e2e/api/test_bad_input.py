"""Bad input the fuzzer found or could find: each is a 400 (or a JSON 404) naming what is
wrong, never a 500 and never a filter silently ignored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from detection.models import AnalysisJob


@pytest.fixture
def admin_api(persona_api_client):
    return persona_api_client("admin")


@pytest.mark.parametrize("word", ["maybe", "null", "yes please", "2"])
def test_a_boolean_filter_refuses_words_it_does_not_know(admin_api, camera, word):
    response = admin_api.get("/api/cameras/", {"enabled": word})

    assert response.status_code == 400
    assert response.json() == {"enabled": ["Use true or false."]}


@pytest.mark.parametrize(("word", "count"), [("true", 1), ("1", 1), ("false", 0), ("0", 0)])
def test_a_boolean_filter_still_filters(admin_api, camera, word, count):
    assert admin_api.get("/api/cameras/", {"enabled": word}).json()["count"] == count


@pytest.mark.parametrize("size", ["abc", "0", "-3", "true", ""])
def test_a_bad_page_size_is_refused(admin_api, camera, size):
    response = admin_api.get("/api/cameras/", {"page_size": size})

    assert response.status_code == 400
    assert "page_size" in response.json()


def test_an_empty_page_is_refused_not_read_as_the_first(admin_api, camera):
    response = admin_api.get("/api/segments/", {"page": ""})

    assert response.status_code == 400
    assert response.json() == {"page": ["A whole number from 1."]}


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        ("2025-05-12T10:00:00+18:30", "UTC offset"),
        ("0001-01-01T00:00:00+05:00", "year"),
        ("9999-12-31T23:59:59-05:00", "year"),
    ],
)
def test_a_moment_no_recording_can_have_is_refused(admin_api, camera, moment, message):
    listed = admin_api.get("/api/segments/", {"start": moment})
    created = admin_api.post(
        "/api/analysis-jobs/", {"camera": "gate", "start": moment, "end": "2025-05-12T11:00:00Z"}, format="json"
    )

    assert listed.status_code == 400 and message in listed.json()["start"][0]
    assert created.status_code == 400 and message in created.json()["start"][0]
    assert not AnalysisJob.objects.exists()


def test_a_camera_slug_with_a_nul_character_is_an_unknown_camera(admin_api, camera):
    now = timezone.now()
    response = admin_api.post(
        "/api/analysis-jobs/",
        {"camera": "ga\x00te", "start": (now - timedelta(hours=2)).isoformat(), "end": now.isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert "camera" in response.json()


@pytest.mark.parametrize("path", ["/api/cameras/ga%00te/", "/api/employees/1.5/", "/api/segments/abc/", "/api/nope/"])
def test_an_unknown_api_path_is_a_json_404(admin_api, camera, path):
    response = admin_api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_html(admin_client):
    response = admin_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
