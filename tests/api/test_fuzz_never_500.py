"""Property-based requests made from the OpenAPI schema itself (schemathesis) against the
real app and database: whatever a client sends, the API answers with a documented status,
content type and body, and never a 500.

Deterministic (derandomized), so a CI failure reproduces; a few dozen cases per operation
and persona.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ainvr.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def load_schema():
    """The schema the API serves at /api/schema/, made without a request."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    schema.app = application
    return schema


SCHEMA = load_schema()
# The token endpoint is throttled (10/min) by design: fuzzing it would only measure the throttle.
OPERATIONS = {
    op.label: op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
    if not op.path.startswith("/api/auth/")
}


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests go through the real WSGI handler, which closes the database connection
    after each one; the test's transaction lives on that connection (Django's test
    Client unhooks the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("persona", ["admin", "operator"])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_answers_every_generated_request_as_documented(label, persona, users, camera):
    token = Token.objects.get_or_create(user=users[persona])[0].key
    headers = {"Authorization": f"Token {token}"}

    @given(case=OPERATIONS[label].as_strategy())
    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answers_as_documented(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()


def test_the_fuzzing_covers_the_api():
    assert {"GET /api/cameras/", "POST /api/admin/reset_logs", "POST /api/analysis-jobs/{id}/cancel/"} <= set(
        OPERATIONS
    )
