"""The OpenAPI schema: a valid OpenAPI 3 document describing every endpoint, for logged-in users."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

REQUIRED = {
    "/api/cameras/": {"get", "post"},
    "/api/cameras/{slug}/": {"get", "put", "patch", "delete"},
    "/api/tracking/state": {"get"},
    "/api/admin/reset_logs": {"post"},
    "/api/analysis-jobs/": {"get", "post"},
    "/api/analysis-jobs/{id}/cancel/": {"post"},
    "/api/detections/": {"get"},
    "/api/segments/": {"get"},
    "/api/employees/": {"get", "post"},
    "/api/layouts/": {"get"},
}


@pytest.fixture(params=["admin", "operator"])
def spec(request, persona_client):
    response = persona_client(request.param).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def test_the_schema_is_a_valid_openapi_3_document(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises OpenAPIValidationError with the offending part


def test_the_schema_describes_the_endpoints_and_their_methods(spec):
    for path, methods in REQUIRED.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, sorted(spec["paths"][path]))


def _request_schema(spec, path: str, method: str) -> dict:
    ref = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_schema_documents_the_reset_logs_contract(spec):
    body = _request_schema(spec, "/api/admin/reset_logs", "post")
    assert body["required"] == ["table"]
    assert {"table", "from_date", "to_date", "dry_run", "expected", "confirm_all"} == set(body["properties"])
    assert body["properties"]["from_date"]["format"] == "date"
    answer = spec["paths"]["/api/admin/reset_logs"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    answer = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert set(answer["properties"]) == {"ok", "dry_run", "deleted_events", "deleted_alert_logs"}


def test_the_schema_marks_camera_credentials_write_only(spec):
    request = _request_schema(spec, "/api/cameras/", "post")
    assert {"username", "password"} <= set(request["properties"])
    answer = spec["paths"]["/api/cameras/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    answer = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert not {"username", "password"} & set(answer["properties"])


def test_the_schema_documents_both_ways_to_authenticate(spec):
    schemes = spec["components"]["securitySchemes"]
    assert {"tokenAuth", "cookieAuth"} <= set(schemes)


def test_the_schema_is_the_same_whoever_asks(persona_client, db):
    admin = persona_client("admin").get("/api/schema/?format=json").content
    operator = persona_client("operator").get("/api/schema/?format=json").content
    assert json.loads(admin) == json.loads(operator)


def test_the_schema_defaults_to_yaml(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(admin_client):
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    # Its start-up script is a file of its own (?script), for the Content-Security-Policy.
    assert "/api/schema/" in admin_client.get("/api/docs/?script=").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn.jsdelivr" not in body  # works on a LAN with no internet


@pytest.mark.parametrize("url", ["/api/schema/", "/api/schema/?format=json", "/api/docs/"])
def test_anonymous_visitors_get_no_schema(url, anon_client):
    response = anon_client.get(url)
    assert response.status_code == 401
    assert b"paths" not in response.content
