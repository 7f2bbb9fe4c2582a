import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from ops import scrape, selectors


@never_cache
@require_GET
def healthz(request):
    """For load balancers and systemd: no login, no detail (the admin status page has it)."""
    healthy = all(check.ok for check in selectors.health_checks())
    return HttpResponse(
        "ok\n" if healthy else "unhealthy\n", status=200 if healthy else 503, content_type="text/plain"
    )  # fmt: skip


def _bearer_token_ok(request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return bool(
        settings.METRICS_TOKEN
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())
    )


@never_cache
@require_GET
def metrics(request):
    """Prometheus: with `Authorization: Bearer <METRICS_TOKEN>`, or an admin's session."""
    if not _bearer_token_ok(request):
        user = request.user
        if not user.is_authenticated:
            response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        if not getattr(user, "is_admin", False):
            return HttpResponse("admins only\n", status=403, content_type="text/plain")
    return HttpResponse(scrape.render(), content_type=CONTENT_TYPE_LATEST)
