"""The playback page and what its player asks for: the day's timeline, the boxes over the
recording, hover previews. Thin: parse, check the role, call selectors, answer."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from core.http import bad_request
from recordings import selectors as recordings
from recordings.stills import preview_at
from review import selectors


@require_GET
@role_required
def playback_page(request):
    """The player. ?camera=<slug>&at=<ISO> opens a moment (links from alerts)."""
    cameras = list(recordings.playback_cameras())
    camera = None
    at = None
    errors = {}
    slug = request.GET.get("camera")
    if slug:
        camera = next((c for c in cameras if c.slug == slug), None)
        if camera is None:
            errors["camera"] = f"There is no camera {slug!r}."
    if request.GET.get("at"):
        try:
            at = recordings.parse_moment(request.GET["at"], "at")
        except ValidationError as e:
            errors.update({k: v[0] for k, v in e.message_dict.items()})
    if camera is None and cameras and "camera" not in errors:
        camera = cameras[0]
    at = timezone.localtime(at or timezone.now())
    day_start, day_end = recordings.day_window(at.date())
    context = {
        "cameras": cameras,
        "camera": camera,
        "at": at,
        "previous_day": day_start - timedelta(hours=12),
        "next_day": day_end + timedelta(hours=12),
        "export_start": at - timedelta(minutes=2),
        "export_end": at + timedelta(minutes=3),
        "errors": errors,
    }
    return render(request, "playback/page.html", context, status=400 if errors else 200)


@require_GET
@role_required
def timeline(request):
    """?camera=<slug>&date=YYYY-MM-DD: the day's spans, segments and detection events."""
    try:
        camera = recordings.camera_by_slug(request.GET.get("camera"))
        day = recordings.parse_day(request.GET.get("date"))
    except ValidationError as e:
        return bad_request(e)
    start, end = recordings.day_window(day)
    return JsonResponse(selectors.timeline(camera, start, end))


@require_GET
@role_required
def boxes(request):
    """?camera=<slug>&start=<ISO>&end=<ISO> (at most 10 minutes): the stored boxes of the
    camera's objects in that range, for drawing them on the recording."""
    try:
        camera = recordings.camera_by_slug(request.GET.get("camera"))
        start = recordings.parse_moment(request.GET.get("start"), "start")
        end = recordings.parse_moment(request.GET.get("end"), "end")
        events = selectors.boxes_between(camera, start, end)
    except ValidationError as e:
        return bad_request(e)
    return JsonResponse({"camera": camera.slug, "start": start.isoformat(), "end": end.isoformat(), "events": events})


@require_GET
@role_required
def preview(request):
    """?camera=<slug>&at=<ISO>: a small picture of the recording at that moment (the keyframe
    at or before it), for the timeline's hover; 404 where nothing was recorded."""
    try:
        camera = recordings.camera_by_slug(request.GET.get("camera"))
        at = recordings.parse_moment(request.GET.get("at"), "at")
    except ValidationError as e:
        return bad_request(e)
    picture = preview_at(camera, at)
    if picture is None:
        raise Http404("Nothing was recorded then.")
    response = HttpResponse(picture, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"  # a recording does not change
    return response
