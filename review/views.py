"""The Review page: alerts and detections to look through, a page at a time, each marked
reviewed per user. Thin: parse, check the role, call detection's selectors and services."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import role_required
from cameras.models import Camera
from detection.models import Severity
from detection.selectors import ReviewQuery, review_items, unreviewed_alert_count
from detection.services import mark_reviewed

# Playback opens this long before an item's start: what led up to it.
PRE_ROLL = timedelta(seconds=5)
REVIEWED_CHOICES = {"no": False, "yes": True, "all": None}


def _query(params) -> tuple[ReviewQuery, dict]:
    """The page's filters from the query string; unknown values fall back to the defaults
    (a filter link never answers an error page), and are named in `problems`."""
    problems = {}
    severity = params.get("severity", Severity.ALERT)
    if severity not in Severity.values:
        problems["severity"] = f"{severity!r} is not alert or detection."
        severity = Severity.ALERT
    reviewed = params.get("reviewed", "no")
    if reviewed not in REVIEWED_CHOICES:
        problems["reviewed"] = f"{reviewed!r} is not no, yes or all."
        reviewed = "no"
    day = None
    if params.get("day"):
        try:
            day = parse_date(params["day"])
        except ValueError:
            day = None
        if day is None:
            problems["day"] = "Give a day such as 2026-05-01."
    try:
        page = max(1, int(params.get("page", 1)))
    except ValueError:
        page = 1
    query = ReviewQuery(
        severity=severity,
        camera=params.get("camera", "")[:64],
        label=params.get("label", "")[:32],
        zone=params.get("zone", "")[:64],
        day=day,
        reviewed=REVIEWED_CHOICES[reviewed],
        page=page,
    )
    return query, problems


@require_GET
@role_required
def review_page(request):
    query, problems = _query(request.GET)
    page = review_items(request.user, query)
    playback = reverse("playback:page")
    for item in page:
        at = (item.start - PRE_ROLL).isoformat()
        item.playback_url = playback + "?" + urlencode({"camera": item.camera.slug, "at": at})
        item.seconds = max(1, round((item.end - item.start).total_seconds()))
    filters = {k: v for k, v in request.GET.items() if k != "page"}
    context = {
        "page": page,
        "query": query,
        "reviewed": request.GET.get("reviewed", "no") if "reviewed" not in problems else "no",
        "problems": problems,
        "cameras": Camera.objects.order_by("name").only("name", "slug"),
        "filters": urlencode(filters),
        "tabs": [(s.value, s.label + "s") for s in Severity],
        "unreviewed_alerts": unreviewed_alert_count(request.user),
    }
    return render(request, "review/page.html", context, status=400 if problems else 200)


@require_POST
@role_required
def mark(request):
    """Mark the posted items reviewed for this user (`item` repeated: those selected; with
    `all`, every item the page showed), then back to the page."""
    chosen = request.POST.getlist("shown" if request.POST.get("all") else "item")
    ids = [int(v) for v in chosen if v.isdigit()]
    done = mark_reviewed(request.user, ids)
    if done:
        messages.success(request, f"Marked {done} reviewed.")
    back = request.POST.get("next", "")
    if not back.startswith(reverse("review:page")):
        back = reverse("review:page")
    return HttpResponseRedirect(back)
