"""Who may reach what: every URL the project routes, for the admin, the operator and an
anonymous visitor.

The tables below declare, request by request, the answer each persona gets.
test_the_matrix_covers_every_url_pattern walks django.urls.get_resolver() and fails for
any pattern no row reaches, so a new URL cannot ship without a decision about who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, resolve

from cameras.models import Camera
from tests.conftest import PASSWORD, PERSONAS
from tests.e2e.conftest import T0

LOGIN = "sent to /login/"  # a chain of redirects ending at /login/?next=<the requested URL>


@dataclass(frozen=True)
class Redirect:
    location: str  # a URL template, filled like Row.url


@dataclass(frozen=True)
class KnownBug:
    """The request raises instead of answering; the row is an expected failure until fixed."""

    raises: type[BaseException]
    reason: str


@dataclass(frozen=True)
class Row:
    method: str
    url: str  # a template: "{camera}", "{job}", ... are filled from the `world` fixture's ids
    admin: object
    operator: object
    anonymous: object
    api: bool = False  # sent with the persona's API token (else a logged-in Django client)
    body: str | None = None  # a key of BODIES

    def expectation(self, persona: str):
        return getattr(self, persona)


def _bodies():
    return {
        "new_camera": {"name": "Yard", "slug": "yard", "stream_url": "rtsp://192.0.2.20:554/main"},
        "camera_put": {"name": "Spare", "slug": "spare", "stream_url": "rtsp://192.0.2.31:554/main"},
        "camera_patch": {"enabled": False},
        "new_zone": {"camera": "gate", "name": "Street", "kind": "object_mask", "points": [[0, 0], [1, 0], [1, 0.2]]},
        "zone_patch": {"min_frames": 5},
        "new_employee": {"code": "E2", "name": "Frank Example"},
        "employee_put": {"code": "E1", "name": "Eve Renamed", "department": "Gate"},
        "employee_patch": {"department": "Night"},
        "new_job": {  # around the world's recorded segment: analysis needs recordings
            "camera": "gate",
            "start": (T0 - timedelta(minutes=1)).isoformat(),
            "end": (T0 + timedelta(minutes=1)).isoformat(),
        },
        "reset_both": {"table": "both", "confirm_all": True},
        "credentials": {"username": "bob", "password": PASSWORD},
    }


# --- Pages of the site itself ---------------------------------------------------------
SITE = [
    Row("GET", "/", 200, 200, LOGIN),
    Row("GET", "/login/", Redirect("/"), Redirect("/"), 200),
    Row("GET", "/logout/", 405, 405, 405),  # logging out is a POST since Django 5
    Row("POST", "/logout/", Redirect("/login/"), Redirect("/login/"), Redirect("/login/")),
    Row("GET", "/password/", 200, 200, LOGIN),
    Row("GET", "/password/done/", 200, 200, LOGIN),
    Row("GET", "/account/token/", 200, 200, LOGIN),
    # Web push (notifications): the service worker is public; an empty body is a 400.
    Row("GET", "/sw.js", 200, 200, 200),
    Row("POST", "/notifications/push/subscribe/", 400, 400, LOGIN),
    Row("POST", "/notifications/push/unsubscribe/", 400, 400, LOGIN),
    # Attendance (issue 6): admins only; operators get live, playback and analysis.
    Row("GET", "/attendance/", 200, 403, LOGIN),
    Row("GET", "/attendance/state.json", 200, 403, LOGIN),
    Row("GET", "/attendance/report/", 200, 403, LOGIN),
    # Operations (issue 8): health for load balancers, metrics for admins or METRICS_TOKEN.
    Row("GET", "/healthz", 200, 200, 200),
    Row("GET", "/metrics", 200, 403, 401),
    # The operator pages (issue 5): live, playback, recorded files, analysis.
    Row("GET", "/live/", 200, 200, LOGIN),
    Row("GET", "/live/layouts/{layout}/", 200, 200, LOGIN),
    Row("GET", "/live/alerts.json", 200, 200, LOGIN),
    Row("GET", "/playback/", 200, 200, LOGIN),
    Row("GET", "/playback/timeline/", 400, 400, LOGIN),  # no camera or date given
    Row("GET", "/playback/boxes/", 400, 400, LOGIN),  # no camera or range given
    Row("GET", "/playback/preview.jpg", 400, 400, LOGIN),  # no camera or moment given
    Row("GET", "/review/", 200, 200, LOGIN),
    Row("POST", "/review/mark/", Redirect("/review/"), Redirect("/review/"), LOGIN),  # nothing chosen, back
    Row("GET", "/recordings/segments/{segment}/", 404, 404, LOGIN),  # the world's segment has no file
    Row("GET", "/recordings/cameras/{camera}/still.jpg", 404, 404, LOGIN),  # nor anything to take a still from
    Row("GET", "/recordings/files/gate/no-such-file.mp4", 404, 404, LOGIN),
    Row("GET", "/recordings/media/snapshots/no-such-file.jpg", 404, 404, LOGIN),
    Row("GET", "/recordings/private/faces/no-such-file.jpg", 404, 403, LOGIN),  # face photos: admins only
    Row("GET", "/recordings/export/", 400, 400, LOGIN),  # no range given
    Row("GET", "/analysis/", 200, 200, LOGIN),
    Row("GET", "/analysis/{job}/", 200, 200, LOGIN),
    Row("GET", "/analysis/{job}/status/", 200, 200, LOGIN),
    Row("POST", "/analysis/{job}/cancel/", Redirect("/analysis/{job}/"), Redirect("/analysis/{job}/"), LOGIN),
]

# --- The admin's own pages (the ModelAdmins' pages are in ADMIN_MODELS) --------------
RQ = "/admin/django_rq/dashboard"
ADMIN_SITE = [
    Row("GET", "/admin/", 200, 403, LOGIN),
    Row("GET", "/admin/login/", Redirect("/admin/"), 403, Redirect("/login/?next=/admin/")),
    Row("GET", "/admin/logout/", 405, 403, Redirect("/login/")),
    Row("POST", "/admin/logout/", Redirect("/login/"), 403, Redirect("/login/")),
    Row("GET", "/admin/password_change/", 200, 403, LOGIN),
    Row("GET", "/admin/password_change/done/", 200, 403, LOGIN),
    Row("GET", "/admin/autocomplete/?app_label=cameras&model_name=dashboardslot&field_name=camera", 200, 403, LOGIN),
    Row("GET", "/admin/jsi18n/", 200, 403, LOGIN),
    # "View on site": no AINVR model has a public page, so even the admin gets a 404.
    Row("GET", "/admin/r/{camera_ct}/{camera_pk}/", 404, 403, LOGIN),
    Row("GET", "/admin/cameras/", 200, 403, LOGIN),
    Row("GET", "/admin/no-such-page/", 404, 403, LOGIN),
    Row("GET", "/admin/accounts/user/{accounts_user}/password/", 200, 403, LOGIN),
    Row("GET", "/admin/attendance/employee/{employee}/faces/", 200, 403, LOGIN),
    Row("GET", "/admin/attendance/employee/{employee}/faces/999999/photo/", 404, 403, LOGIN),
    Row("GET", "/admin/recordings/segment/delete-footage/{cameras_camera}/", 200, 403, LOGIN),
    Row("GET", "/admin/cameras/camera/{cameras_camera}/zones/", 200, 403, LOGIN),
    # Without the typed name nothing is deleted: back to the page.
    Row(
        "POST",
        "/admin/recordings/segment/delete-footage/{cameras_camera}/",
        Redirect("/admin/recordings/segment/delete-footage/{cameras_camera}/"),
        403,
        LOGIN,
    ),  # fmt: skip
    # Django-RQ's JSON statistics answer staff only (or a bearer token, none configured here).
    Row("GET", f"{RQ}/stats.json", 200, 401, 401),
    Row("GET", f"{RQ}/metrics/", 200, 401, 401),
    Row("GET", f"{RQ}/stats.json/guessedtoken/", 200, 401, 401),
    Row("GET", f"{RQ}/", 200, 403, LOGIN),
    *(
        Row("GET", f"{RQ}/queues/0/{page}", 200, 403, LOGIN)
        for page in (
            "",
            "details/",
            "finished/",
            "failed/",
            "failed/clear/",
            "scheduled/",
            "started/",
            "deferred/",
            "empty/",
            "requeue-all/",
        )
    ),  # fmt: skip
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/", 200, 403, LOGIN),
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/results/no-such-result/", 404, 403, LOGIN),
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/delete/", 200, 403, LOGIN),
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/requeue/", 200, 403, LOGIN),
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/enqueue/", 200, 403, LOGIN),
    Row("GET", f"{RQ}/queues/0/{{rq_job}}/stop/", 405, 403, LOGIN),
    Row("GET", f"{RQ}/queues/confirm-action/0/", Redirect(f"{RQ}/queues/0/"), 403, LOGIN),
    Row("GET", f"{RQ}/queues/actions/0/", Redirect(f"{RQ}/queues/0/"), 403, LOGIN),
    Row("GET", f"{RQ}/workers/0/", 200, 403, LOGIN),
    Row("GET", f"{RQ}/workers/0/{{rq_worker}}/", 200, 403, LOGIN),
    # rq-scheduler's page is left out (AINVR schedules with RQ itself).
    Row("GET", f"{RQ}/schedulers/0/", Redirect(f"{RQ}/schedulers/0/change/"), 403, LOGIN),
    Row("GET", f"{RQ}/cron-schedulers/0/no-such-scheduler/", 404, 403, LOGIN),
    Row("GET", f"{RQ}/cron-schedulers/0/no-such-scheduler/jobs/no-such-job/", 404, 403, LOGIN),
]

# --- Every registered ModelAdmin ----------------------------------------------------
# What the admin role gets where it differs from 200: views the ModelAdmin refuses even
# to admins (rows only the workers write, singletons, read-only logs).
# Django-RQ's entry is a model without a table: its object pages lead back to the dashboard.
TO_RQ_DASHBOARD = Redirect(f"{RQ}/")
ADMIN_MODELS: dict[str, dict[str, object]] = {
    "django_rq.dashboard": {
        "add": 403,
        "change": TO_RQ_DASHBOARD,
        "history": TO_RQ_DASHBOARD,
        "delete": TO_RQ_DASHBOARD,
    },
    "authtoken.tokenproxy": {},
    "accounts.user": {},
    "cameras.camera": {},
    "cameras.dashboardlayout": {},
    "recordings.segment": {"add": 403, "delete": 403},  # change: a read-only view, 200
    "recordings.storagesettings": {"add": 403, "delete": 403},  # one row, which exists
    "detection.objectevent": {"add": 403},
    "detection.analysisjob": {"add": 403},
    "attendance.employee": {},
    "attendance.presence": {"add": 403},
    "attendance.dailyattendance": {},
    "attendance.attendanceevent": {},
    "attendance.alertlog": {},
    "notifications.channel": {},
    "notifications.rule": {},
    "notifications.delivery": {"add": 403},  # change: a read-only view, 200
    "notifications.pushsubscription": {"add": 403},  # change: a read-only view, 200
    "notifications.healthcondition": {"add": 403, "delete": 403},  # change: a read-only view, 200
    # A page, not a table: the status page is its only view.
    "ops.systemstatus": {"pages": ("changelist",)},
}


def _model_rows(label: str, admin_answers: dict[str, object]) -> list[Row]:
    app, model = label.split(".")
    base = f"/admin/{app}/{model}"
    obj = "{" + label.replace(".", "_") + "}"
    urls = {
        "changelist": f"{base}/",
        "add": f"{base}/add/",
        "change": f"{base}/{obj}/change/",
        "history": f"{base}/{obj}/history/",
        "delete": f"{base}/{obj}/delete/",
    }
    pages = admin_answers.get("pages", tuple(urls))
    rows = [Row("GET", url, admin_answers.get(view, 200), 403, LOGIN) for view, url in urls.items() if view in pages]
    if "change" in pages:
        # The bare object URL is the admin's redirect to the change form.
        rows.append(Row("GET", f"{base}/{obj}/", Redirect(urls["change"]), 403, LOGIN))
    return rows


ADMIN_MODEL_ROWS = [row for label, answers in ADMIN_MODELS.items() for row in _model_rows(label, answers)]


# --- The API: anonymous always 401 (the token endpoint aside) ------------------------
def _with_format_suffix(url: str) -> str:
    return "/api/.json" if url == "/api/" else url.removesuffix("/") + ".json"


def api(method: str, url: str, admin_answer, operator_answer, body: str | None = None, *, suffix: bool = True):
    urls = [url, _with_format_suffix(url)] if suffix else [url]
    return [Row(method, u, admin_answer, operator_answer, 401, api=True, body=body) for u in urls]


API = [
    *api("GET", "/api/", 200, 200),
    *api("GET", "/api/cameras/", 200, 200),
    *api("POST", "/api/cameras/", 201, 403, "new_camera"),
    *api("GET", "/api/cameras/{camera}/", 200, 200),
    *api("PUT", "/api/cameras/{spare}/", 200, 403, "camera_put"),
    *api("PATCH", "/api/cameras/{spare}/", 200, 403, "camera_patch"),
    *api("DELETE", "/api/cameras/{spare}/", 204, 403),
    *api("GET", "/api/layouts/", 200, 200),
    *api("GET", "/api/layouts/{layout}/", 200, 200),
    *api("GET", "/api/zones/", 200, 200),
    *api("POST", "/api/zones/", 201, 403, "new_zone"),
    *api("GET", "/api/zones/{zone}/", 200, 200),
    *api("PATCH", "/api/zones/{zone}/", 200, 403, "zone_patch"),
    *api("DELETE", "/api/zones/{zone}/", 204, 403),
    *api("GET", "/api/segments/", 200, 200),
    *api("GET", "/api/segments/{segment}/", 200, 200),
    *api("GET", "/api/detections/", 200, 200),
    *api("GET", "/api/detections/{detection}/", 200, 200),
    *api("GET", "/api/analysis-jobs/", 200, 200),
    *api("POST", "/api/analysis-jobs/", 201, 201, "new_job"),
    *api("GET", "/api/analysis-jobs/{job}/", 200, 200),
    *api("POST", "/api/analysis-jobs/{job}/cancel/", 200, 200),
    *api("GET", "/api/employees/", 200, 403),
    *api("POST", "/api/employees/", 201, 403, "new_employee"),
    *api("GET", "/api/employees/{employee}/", 200, 403),
    *api("PUT", "/api/employees/{employee}/", 200, 403, "employee_put"),
    *api("PATCH", "/api/employees/{employee}/", 200, 403, "employee_patch"),
    *api("DELETE", "/api/employees/{employee}/", 204, 403),
    *api("GET", "/api/employees/{employee}/faces/", 405, 403),  # POST photos (tests/attendance)
    *api("GET", "/api/tracking/state", 200, 403, suffix=False),
    *api("GET", "/api/attendance/report?from_date=2025-06-01&to_date=2025-06-30", 200, 403, suffix=False),
    *api("GET", "/api/admin/reset_logs", 405, 403, suffix=False),
    *api("POST", "/api/admin/reset_logs", 200, 403, "reset_both", suffix=False),
    *api("GET", "/api/schema/", 200, 200, suffix=False),
    *api("GET", "/api/docs/", 200, 200, suffix=False),
    # The token endpoint is how an integration logs in: open to all, POST only.
    Row("GET", "/api/auth/token/", 405, 405, 405, api=True),
    Row("POST", "/api/auth/token/", 200, 200, 200, api=True, body="credentials"),
]

MATRIX = SITE + ADMIN_SITE + ADMIN_MODEL_ROWS + API


def _params():
    for row in MATRIX:
        for persona in PERSONAS:
            expected = row.expectation(persona)
            marks = []
            if isinstance(expected, KnownBug):
                marks.append(pytest.mark.xfail(raises=expected.raises, strict=True, reason=expected.reason))
            yield pytest.param(row, persona, id=f"{row.method} {row.url} as {persona}", marks=marks)


def _fill(template: str, ids: dict) -> str:
    return template.format(**ids)


def _send(client, row: Row, url: str):
    send = getattr(client, row.method.lower())
    if row.body is None:
        return send(url)
    if row.api:
        return send(url, _bodies()[row.body], format="json")
    return send(url, _bodies()[row.body])


def _assert_sent_to_login(client, response, url: str) -> None:
    """Anonymous visitors end on the site's login page, told where to come back to."""
    expected = "/login/?next=" + quote(url, safe="/")
    hops = []
    while response.status_code == 302 and len(hops) < 5:
        hops.append(response["Location"])
        response = client.get(response["Location"])
    assert hops, f"{url} answered {response.status_code}, not a redirect"
    assert hops[-1] == expected, f"{url} redirected through {hops}"
    assert response.status_code == 200


@pytest.mark.parametrize(("row", "persona"), list(_params()))
def test_every_url_answers_each_persona_as_declared(row, persona, world, persona_client, persona_api_client, request):
    ids = dict(world.ids)
    if "{rq_job}" in row.url:
        ids["rq_job"] = request.getfixturevalue("rq_job")
    if "{rq_worker}" in row.url:
        ids["rq_worker"] = request.getfixturevalue("rq_worker_key")
    url = _fill(row.url, ids)
    client = persona_api_client(persona) if row.api else persona_client(persona)
    expected = row.expectation(persona)

    response = _send(client, row, url)

    if isinstance(expected, KnownBug):
        pytest.fail(f"{row.method} {url} answered {response.status_code}: the known bug is gone, update the matrix")
    elif expected == LOGIN:
        _assert_sent_to_login(client, response, url)
    elif isinstance(expected, Redirect):
        assert (response.status_code, response.get("Location")) == (302, _fill(expected.location, ids))
    else:
        assert response.status_code == expected, response.content[:500]
    if row.api and response.status_code == 401:
        # Token authentication comes first, so clients are told how to authenticate.
        assert response["WWW-Authenticate"] == "Token"


def _join(route: str, more: str) -> str:
    # As Django joins included patterns (ResolverMatch.route): the inner leading ^ is dropped.
    return more if not route else route + more.removeprefix("^")


def all_routes(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    routes = set()
    for pattern in resolver.url_patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            routes |= all_routes(pattern, route)
        else:
            routes.add(route)
    return routes


def test_the_matrix_covers_every_url_pattern(world):
    ids = {**world.ids, "rq_job": "some-job", "rq_worker": "rq:worker:someone"}
    covered = {resolve(urlsplit(_fill(row.url, ids)).path).route for row in MATRIX}
    routes = all_routes()
    assert len(routes) > 150  # the admin's, Django-RQ's and the router's patterns were all walked
    assert sorted(routes - covered) == []


def test_the_route_walk_finds_format_suffix_patterns():
    routes = all_routes()
    assert "api/cameras/$" in routes
    assert "api/cameras\\.(?P<format>[a-z0-9]+)/?$" in routes
    assert "api/<drf_format_suffix:format>" in routes


def test_the_admin_table_lists_every_registered_model():
    registered = {f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS)


@pytest.mark.parametrize("url", ["/api/layouts/", "/api/segments/", "/api/detections/"])
def test_read_only_endpoints_refuse_writes_even_from_admins(url, persona_api_client, world):
    assert persona_api_client("admin").post(url, {}, format="json").status_code == 405
    assert persona_api_client("operator").post(url, {}, format="json").status_code == 403


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/cameras/"])
def test_a_session_login_opens_the_api_and_its_schema(url, persona_client, db):
    assert persona_client("operator").get(url).status_code == 200
    assert persona_client("anonymous").get(url).status_code == 401


def test_an_api_token_is_not_a_login_for_the_settings_pages(persona_api_client, db):
    # The admin accepts sessions only: a token, even an admin's, does not open it.
    response = persona_api_client("admin").get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/admin/")


def test_the_token_endpoint_throttles_password_guessing(persona_api_client, operator_user, settings):
    settings.AXES_FAILURE_LIMIT = 100  # the login lockout aside (tests/accounts/test_login_lockout.py)
    client = persona_api_client("anonymous")
    guesses = [
        client.post("/api/auth/token/", {"username": "bob", "password": f"guess-{i}"}).status_code for i in range(10)
    ]
    assert guesses == [400] * 10
    response = client.post("/api/auth/token/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429


def test_the_token_endpoint_gives_a_working_token(persona_api_client, operator_user):
    from rest_framework.test import APIClient

    key = persona_api_client("anonymous").post("/api/auth/token/", {"username": "bob", "password": PASSWORD}).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key['token']}")
    assert client.get("/api/cameras/").status_code == 200
    assert client.post("/api/cameras/", {}, format="json").status_code == 403  # still an operator


def test_an_admin_cannot_delete_a_camera_that_has_recordings(world, persona_api_client):
    response = persona_api_client("admin").delete("/api/cameras/gate/")
    assert response.status_code == 409
    assert "segments" in response.json()["detail"]
    assert Camera.objects.filter(slug="gate").exists()
