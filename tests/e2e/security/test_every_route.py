"""Every URL pattern the project routes (django.urls.get_resolver, walked recursively: the
site, the admin and its ModelAdmins, Django-RQ's pages, the API with its format suffixes,
media and recordings) and every WebSocket route, requested as the admin, the operator and
an anonymous visitor, with real objects in the path and with objects that do not exist.

Each route has a row in ROUTES saying who may use it; the persona rules in RULES say what
each then gets. A route with no row fails test_every_route_has_a_row ("add it to the
table"), so a new URL cannot ship without a decision about who may reach it. No request,
whatever the persona, ever answers a 500.

tests/e2e/api/test_permissions.py pins the exact answer per request; this module checks the
rules (operators 403 on admin pages and admin-only APIs, anonymous sent to the login page
or 401, missing objects 404) over the whole route table, for GET and POST alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client

from ainvr.routing import websocket_urlpatterns
from tests.conftest import PERSONAS
from tests.e2e.api.test_permissions import all_routes
from tests.pipeline.live.sockets import connects, headers_for

LOGIN = "sent to /login/?next=<the URL>"
OPEN = "served: not 401/403, not sent to log in, no 5xx"
SIGNED_IN = "taken as signed in: not 401, not sent to log in, no 5xx (a 403 where the role may not)"
ANY = "anything but a 5xx"
MISSING = "999999"

# What each persona gets, by who the route is for. 405 also counts as refused (a view
# that checks the method before the user serves nothing either way).
RULES: dict[str, dict[str, object]] = {
    "public": {"admin": OPEN, "operator": OPEN, "anonymous": OPEN},
    "signed-in": {"admin": OPEN, "operator": OPEN, "anonymous": LOGIN},
    "admin-page": {"admin": OPEN, "operator": 403, "anonymous": LOGIN},
    # The admin's login and logout pages send anonymous visitors to the site's login page.
    "admin-entry": {"admin": ANY, "operator": 403, "anonymous": ANY},
    # Logging out: anyone, ending on the login page.
    "logout": {"admin": ANY, "operator": ANY, "anonymous": ANY},
    "api": {"admin": OPEN, "operator": OPEN, "anonymous": 401},
    "admin-api": {"admin": OPEN, "operator": 403, "anonymous": 401},
    # Prometheus scrapes: a bearer token or an admin's session.
    "admin-or-token": {"admin": OPEN, "operator": 403, "anonymous": 401},
    # Django-RQ's JSON answers staff sessions or its own token (none configured): 401 otherwise.
    "rq-stats": {"admin": OPEN, "operator": 401, "anonymous": 401},
}
# Writes through the API are mostly the admin's (an operator may start an analysis).
WRITE_RULES = {"api": {"operator": SIGNED_IN}}


@dataclass(frozen=True)
class Route:
    rule: str
    url: str | None = None  # a template filled from the world's ids; None: the route itself
    missing: str | None = None  # the same URL naming objects that do not exist
    missing_status: int = 404  # what those who may use the route get for it
    admin_may_refuse: bool = False  # a ModelAdmin may refuse even admins some views (403)


RQ = "/admin/django_rq/dashboard"
ROUTES: dict[str, Route] = {
    # --- the site's pages
    "": Route("signed-in", "/"),
    "login/": Route("public"),
    "logout/": Route("logout"),
    "password/": Route("signed-in"),
    "password/done/": Route("signed-in"),
    "account/token/": Route("signed-in"),  # one's own API token: see, rotate, revoke
    "sw.js": Route("public"),
    "healthz": Route("public"),
    "metrics": Route("admin-or-token"),
    "notifications/push/subscribe/": Route("signed-in"),
    "notifications/push/unsubscribe/": Route("signed-in"),
    "attendance/": Route("admin-page"),
    "attendance/state.json": Route("admin-page"),
    "attendance/report/": Route("admin-page"),
    "live/": Route("signed-in"),
    "live/alerts.json": Route("signed-in"),
    "live/layouts/<int:pk>/": Route("signed-in", "/live/layouts/{layout}/", f"/live/layouts/{MISSING}/"),
    "playback/": Route("signed-in"),
    "playback/timeline/": Route("signed-in"),
    "playback/boxes/": Route("signed-in"),
    "playback/preview.jpg": Route("signed-in"),
    "recordings/export/": Route("signed-in"),
    "review/": Route("signed-in"),
    "review/mark/": Route("signed-in"),
    "recordings/cameras/<slug:slug>/still.jpg": Route(
        "signed-in", "/recordings/cameras/{camera}/still.jpg", "/recordings/cameras/no-such-camera/still.jpg"
    ),
    "recordings/segments/<int:pk>/": Route(
        "signed-in", "/recordings/segments/{segment}/", f"/recordings/segments/{MISSING}/"
    ),
    "recordings/files/<path:path>": Route(
        "signed-in", "/recordings/files/gate/2025/06/10/10-00-00.mp4", "/recordings/files/gate/../../etc/passwd"
    ),
    "recordings/media/<path:path>": Route(
        "signed-in", "/recordings/media/snapshots/no-such-file.jpg", "/recordings/media/../settings.py"
    ),
    # Face photos and attendance snapshots: admins only.
    "recordings/private/<path:path>": Route(
        "admin-page", "/recordings/private/faces/no-such-file.jpg", "/recordings/private/../settings.py"
    ),
    "analysis/": Route("signed-in"),
    "analysis/<int:pk>/": Route("signed-in", "/analysis/{job}/", f"/analysis/{MISSING}/"),
    "analysis/<int:pk>/status/": Route("signed-in", "/analysis/{job}/status/", f"/analysis/{MISSING}/status/"),
    "analysis/<int:pk>/cancel/": Route("signed-in", "/analysis/{job}/cancel/", f"/analysis/{MISSING}/cancel/"),
    # --- the admin's own pages (the ModelAdmins' standard pages are added below)
    "admin/": Route("admin-page"),
    "admin/login/": Route("admin-entry"),
    "admin/logout/": Route("admin-entry"),
    "admin/password_change/": Route("admin-page"),
    "admin/password_change/done/": Route("admin-page"),
    "admin/autocomplete/": Route(
        "admin-page", "/admin/autocomplete/?app_label=cameras&model_name=dashboardslot&field_name=camera"
    ),
    "admin/jsi18n/": Route("admin-page"),
    "admin/(?P<url>.*)$": Route("admin-page", "/admin/no-such-page/", missing_status=404),
    "admin/r/<path:content_type_id>/<path:object_id>/": Route(
        "admin-page", "/admin/r/{camera_ct}/{camera_pk}/", f"/admin/r/{{rq_dashboard_ct}}/{MISSING}/"
    ),
    "admin/accounts/user/<id>/password/": Route(
        "admin-page", "/admin/accounts/user/{accounts_user}/password/", f"/admin/accounts/user/{MISSING}/password/"
    ),
    "admin/cameras/camera/<int:camera_id>/zones/": Route(
        "admin-page", "/admin/cameras/camera/{cameras_camera}/zones/", f"/admin/cameras/camera/{MISSING}/zones/"
    ),
    "admin/recordings/segment/delete-footage/<int:camera_id>/": Route(
        "admin-page",
        "/admin/recordings/segment/delete-footage/{cameras_camera}/",
        f"/admin/recordings/segment/delete-footage/{MISSING}/",
    ),
    "admin/attendance/employee/<int:employee_id>/faces/": Route(
        "admin-page", "/admin/attendance/employee/{employee}/faces/", f"/admin/attendance/employee/{MISSING}/faces/"
    ),
    "admin/attendance/employee/<int:employee_id>/faces/<int:enrolment_id>/photo/": Route(
        "admin-page",
        f"/admin/attendance/employee/{{employee}}/faces/{MISSING}/photo/",
        f"/admin/attendance/employee/{MISSING}/faces/{MISSING}/photo/",
    ),
    # --- Django-RQ's pages, inside the admin
    "admin/django_rq/dashboard/": Route("admin-page"),
    "admin/django_rq/dashboard/stats.json/?$": Route("rq-stats", f"{RQ}/stats.json"),
    "admin/django_rq/dashboard/stats.json/(?P<token>[\\w]+)?/?$": Route("rq-stats", f"{RQ}/stats.json/guessed/"),
    "admin/django_rq/dashboard/metrics/?$": Route("rq-stats", f"{RQ}/metrics/"),
    **{
        f"admin/django_rq/dashboard/queues/<int:queue_index>/{page}": Route(
            "admin-page", f"{RQ}/queues/0/{page}", f"{RQ}/queues/{MISSING}/{page}"
        )
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
    },
    **{
        f"admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/{page}": Route(
            "admin-page", f"{RQ}/queues/0/{{rq_job}}/{page}", f"{RQ}/queues/0/no-such-job/{page}"
        )
        for page in ("", "delete/", "requeue/", "enqueue/", "stop/")
    },
    "admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/results/<str:result_id>/": Route(
        "admin-page", f"{RQ}/queues/0/{{rq_job}}/results/no-such-result/", f"{RQ}/queues/0/no-such-job/results/x/"
    ),
    "admin/django_rq/dashboard/queues/confirm-action/<int:queue_index>/": Route(
        "admin-page", f"{RQ}/queues/confirm-action/0/", f"{RQ}/queues/confirm-action/{MISSING}/"
    ),
    "admin/django_rq/dashboard/queues/actions/<int:queue_index>/": Route(
        "admin-page", f"{RQ}/queues/actions/0/", f"{RQ}/queues/actions/{MISSING}/"
    ),
    "admin/django_rq/dashboard/workers/<int:queue_index>/": Route(
        "admin-page", f"{RQ}/workers/0/", f"{RQ}/workers/{MISSING}/"
    ),
    "admin/django_rq/dashboard/workers/<int:queue_index>/<str:key>/": Route(
        "admin-page", f"{RQ}/workers/0/{{rq_worker}}/", f"{RQ}/workers/0/rq:worker:nobody/"
    ),
    "admin/django_rq/dashboard/cron-schedulers/<int:connection_index>/<str:scheduler_name>/": Route(
        "admin-page", f"{RQ}/cron-schedulers/0/nobody/", f"{RQ}/cron-schedulers/{MISSING}/nobody/"
    ),
    f"{RQ[1:]}/cron-schedulers/<int:connection_index>/<str:scheduler_name>/jobs/<path:cron_job_name>/": Route(
        "admin-page", f"{RQ}/cron-schedulers/0/nobody/jobs/x/", f"{RQ}/cron-schedulers/{MISSING}/nobody/jobs/x/"
    ),
    # --- the API
    "api/": Route("api"),
    "api/<drf_format_suffix:format>": Route("api", "/api/.json"),
    "api/schema/": Route("api"),
    "api/docs/": Route("api"),
    "api/auth/token/": Route("public"),
    "api/tracking/state": Route("admin-api"),
    "api/attendance/report": Route("admin-api", "/api/attendance/report?from_date=2025-06-01&to_date=2025-06-30"),
    "api/admin/reset_logs": Route("admin-api"),
}

# The router's viewsets: a list and a detail route, each also with a format suffix.
API_VIEWSETS = {
    "cameras": ("api", "(?P<slug>[-a-zA-Z0-9_]+)", "{camera}", "no-such-camera"),
    "layouts": ("api", "(?P<pk>[0-9]+)", "{layout}", MISSING),
    "zones": ("api", "(?P<pk>[0-9]+)", "{zone}", MISSING),
    "segments": ("api", "(?P<pk>[0-9]+)", "{segment}", MISSING),
    "detections": ("api", "(?P<pk>[0-9]+)", "{detection}", MISSING),
    "analysis-jobs": ("api", "(?P<pk>[0-9]+)", "{job}", MISSING),
    "employees": ("admin-api", "(?P<pk>[0-9]+)", "{employee}", MISSING),
}
for _name, (_rule, _regex, _real, _missing) in API_VIEWSETS.items():
    ROUTES[f"api/{_name}/$"] = Route(_rule, f"/api/{_name}/")
    ROUTES[f"api/{_name}\\.(?P<format>[a-z0-9]+)/?$"] = Route(_rule, f"/api/{_name}.json")
    ROUTES[f"api/{_name}/{_regex}/$"] = Route(_rule, f"/api/{_name}/{_real}/", f"/api/{_name}/{_missing}/")
    ROUTES[f"api/{_name}/{_regex}\\.(?P<format>[a-z0-9]+)/?$"] = Route(
        _rule, f"/api/{_name}/{_real}.json", f"/api/{_name}/{_missing}.json"
    )
ROUTES["api/employees/(?P<pk>[0-9]+)/faces/$"] = Route(
    "admin-api", "/api/employees/{employee}/faces/", f"/api/employees/{MISSING}/faces/"
)
ROUTES["api/employees/(?P<pk>[0-9]+)/faces\\.(?P<format>[a-z0-9]+)/?$"] = Route(
    "admin-api", "/api/employees/{employee}/faces.json", f"/api/employees/{MISSING}/faces.json"
)
ROUTES["api/analysis-jobs/(?P<pk>[0-9]+)/cancel/$"] = Route(
    "api", "/api/analysis-jobs/{job}/cancel/", f"/api/analysis-jobs/{MISSING}/cancel/"
)
ROUTES["api/analysis-jobs/(?P<pk>[0-9]+)/cancel\\.(?P<format>[a-z0-9]+)/?$"] = Route(
    "api", "/api/analysis-jobs/{job}/cancel.json", f"/api/analysis-jobs/{MISSING}/cancel.json"
)


def _model_admin_routes() -> dict[str, Route]:
    """Every registered ModelAdmin's standard pages (their extra pages are in ROUTES):
    for a missing object the admin sends admins back with a message (302)."""
    # The app index: its pattern lists the apps in the order they registered.
    labels = dict.fromkeys(model._meta.app_label for model in admin.site._registry)
    app_index = "admin/(?P<app_label>" + "|".join(labels) + ")/$"
    routes = {app_index: Route("admin-page", "/admin/cameras/")}
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        base = f"admin/{app}/{name}/"
        obj = "{" + f"{app}_{name}" + "}"
        routes[base] = Route("admin-page", f"/{base}")
        routes[f"{base}add/"] = Route("admin-page", f"/{base}add/", admin_may_refuse=True)
        for page in ("", "change/", "history/", "delete/"):
            routes[f"{base}<path:object_id>/{page}"] = Route(
                "admin-page", f"/{base}{obj}/{page}", f"/{base}{MISSING}/{page}", 302, admin_may_refuse=True
            )
    # A ModelAdmin may offer fewer pages (the status page is only a list).
    present = all_routes()
    return {route: row for route, row in routes.items() if route in present}


# The WebSocket routes: who may open them, for a real and a missing camera.
WS_ROUTES = {
    "ws/dashboard/": ("/ws/dashboard/", None),
    "ws/live/<slug:slug>/": ("/ws/live/gate/", "/ws/live/no-such-camera/"),
}
WS_ALLOWED = {"admin": True, "operator": True, "anonymous": False}


def table() -> dict[str, Route]:
    return {**_model_admin_routes(), **ROUTES}


def test_every_route_has_a_row():
    routes = all_routes()
    assert len(routes) > 200, "the admin's, Django-RQ's and the router's patterns were all walked"
    unknown = sorted(routes - set(table()))
    assert unknown == [], f"add these routes to ROUTES in {__name__} (who may use them?): {unknown}"
    # A row for a route that is gone would hide nothing, but says the table is stale.
    assert sorted(set(table()) - routes) == []


def test_every_websocket_route_has_a_row():
    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WS_ROUTES)


@pytest.fixture
def ids(world, request):
    from django.contrib.contenttypes.models import ContentType
    from django_rq.models import Dashboard

    values = dict(world.ids)
    # Models the world has no row of: the first row there is, else only a missing object.
    for model in admin.site._registry:
        key = f"{model._meta.app_label}_{model._meta.model_name}"
        if key not in values:
            first = model._default_manager.first() if model._meta.managed else None
            values[key] = quote(str(first.pk)) if first else MISSING
    values["rq_dashboard_ct"] = ContentType.objects.get_for_model(Dashboard).pk
    values["rq_job"] = request.getfixturevalue("deletable_rq_job")
    values["rq_worker"] = request.getfixturevalue("rq_worker_key")
    return values


def _client(persona: str, users) -> Client:
    # Exceptions become the 500 page a visitor would get, so the assertion can name the URL.
    client = Client(raise_request_exception=False)
    if users[persona] is not None:
        client.force_login(users[persona])
    return client


def _sent_to_login(client: Client, response, url: str) -> bool:
    expected = "/login/?next=" + quote(url, safe="/")
    hops = 0
    while response.status_code == 302 and hops < 5:
        if response["Location"] == expected:
            return True
        response = client.get(response["Location"])
        hops += 1
    return False


def check(client: Client, method: str, url: str, expected, missing_status: int | None) -> str | None:
    """What is wrong with the answer to `method url`, or None."""
    response = client.generic(method, url)
    sent_to_login = response.get("Location", "").startswith("/login/")
    if response.status_code >= 500:
        return f"{response.status_code}"
    if expected == SIGNED_IN:
        if response.status_code == 401 or sent_to_login:
            return f"{response.status_code} {response.get('Location', '')}"
    elif expected == LOGIN:
        if response.status_code != 405 and not _sent_to_login(client, response, url):
            return f"{response.status_code} {response.get('Location', '')}, not sent to log in"
    elif expected == OPEN:
        if response.status_code in (401, 403) or sent_to_login:
            return f"{response.status_code} {response.get('Location', '')}"
        if missing_status is not None and response.status_code not in (missing_status, 405):
            return f"{response.status_code}, not {missing_status} for a missing object"
    elif expected != ANY and response.status_code not in (expected, 405):
        return f"{response.status_code}, not {expected}"
    return None


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_route_answers_each_persona_by_its_rule(persona, method, ids, users):
    """One test per persona and method walks the whole table (a test per route would build
    the world of objects 2,000 times); every wrong answer is listed at once."""
    wrong = []
    for route, row in sorted(table().items()):
        client = _client(persona, users)  # afresh: a POST to a logout route ends the session
        expected = RULES[row.rule][persona]
        if method != "GET":
            expected = WRITE_RULES.get(row.rule, {}).get(persona, expected)
        if expected == OPEN and row.admin_may_refuse:
            expected = SIGNED_IN
        urls = [((row.url or "/" + route).format(**ids), None)]
        if row.missing:
            urls.append((row.missing.format(**ids), row.missing_status))
        for url, missing_status in urls:
            problem = check(client, method, url, expected, missing_status)
            if problem:
                wrong.append(f"{method} {url} as {persona} ({row.rule}): {problem}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db(transaction=True)  # the sockets' consumers read from other threads
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", sorted(WS_ROUTES))
def test_every_websocket_route_lets_in_only_signed_in_roles(route, persona, persona_client, redis_layer, camera):
    real, missing = WS_ROUTES[route]
    headers = headers_for(persona_client(persona))
    assert connects(real, headers) is WS_ALLOWED[persona]
    if missing:
        assert connects(missing, headers) is False
