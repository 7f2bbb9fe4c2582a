"""Recorded files (with Range), media files, stills and exports. Thin: parse, check the role,
call selectors/export, answer."""

from __future__ import annotations

import logging
import tempfile
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import role_required
from core.http import bad_request
from core.media import is_private
from recordings import selectors
from recordings.export import NothingToExport, export_mp4
from recordings.files import open_then_unlink, safe_path, serve_file
from recordings.stills import latest_still

log = logging.getLogger("ainvr.playback")


def admin_required(view):
    """As role_required (anonymous visitors go to the login page), and 403 for operators."""

    @wraps(view)
    def admins_only(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return role_required(admins_only)


@require_http_methods(["GET", "HEAD"])
@role_required
def segment_file(request, pk: int):
    """One recorded segment by its id, with Range."""
    segment = selectors.segment_by_id(pk)
    if segment is None:
        raise Http404("No such recording.")
    return serve_file(request, settings.RECORDINGS_DIR, segment.path, accel_prefix=settings.RECORDINGS_ACCEL_REDIRECT)


@require_http_methods(["GET", "HEAD"])
@role_required
def recording_file(request, path: str):
    """A file under RECORDINGS_DIR by its relative path (as the API lists it), with Range."""
    return serve_file(request, settings.RECORDINGS_DIR, path, accel_prefix=settings.RECORDINGS_ACCEL_REDIRECT)


@require_http_methods(["GET", "HEAD"])
@role_required
def media_file(request, path: str):
    """Snapshots and annotated videos under MEDIA_DIR, with Range. Never face photos or
    attendance snapshots, whoever asks: those have their own view, for admins only."""
    if is_private(_relative_to_media(path)):
        raise Http404("No such file.")
    return serve_file(request, settings.MEDIA_ROOT, path, accel_prefix=settings.MEDIA_ACCEL_REDIRECT)


@require_http_methods(["GET", "HEAD"])
@admin_required
def private_media_file(request, path: str):
    """Face photos and attendance snapshots (core.media.PRIVATE_PREFIXES): admins only."""
    if not is_private(_relative_to_media(path)):
        raise Http404("No such file.")
    return serve_file(request, settings.MEDIA_ROOT, path, accel_prefix=settings.MEDIA_ACCEL_REDIRECT)


def _relative_to_media(path: str) -> str:
    """The file's path inside MEDIA_DIR once resolved (`faces//x`, a symlink to faces/...:
    judged by where it really is), or Http404 as serve_file would answer."""
    root = Path(settings.MEDIA_ROOT).resolve()
    return safe_path(root, path).relative_to(root).as_posix()


@require_GET
@role_required
def export(request):
    """?camera=<slug>&start=<ISO>&end=<ISO>: the range as one MP4 download."""
    try:
        camera = selectors.camera_by_slug(request.GET.get("camera"))
        start = selectors.parse_moment(request.GET.get("start"), "start")
        end = selectors.parse_moment(request.GET.get("end"), "end")
        if end <= start:
            raise ValidationError({"end": "The end must be after the start."})
        if (end - start).total_seconds() > settings.RECORDINGS_EXPORT_MAX_MINUTES * 60:
            raise ValidationError(
                {"end": f"Export at most {settings.RECORDINGS_EXPORT_MAX_MINUTES} minutes at a time."}
            )
    except ValidationError as e:
        return bad_request(e)
    segments = list(selectors.segments_between(camera, start, end))
    if not segments:
        return JsonResponse({"errors": {"detail": ["Nothing was recorded in that range."]}}, status=404)
    with tempfile.NamedTemporaryFile(dir=settings.STATE_DIR, prefix="export-", suffix=".mp4", delete=False) as tmp:
        dest = Path(tmp.name)
    try:
        export_mp4(segments, root=settings.RECORDINGS_DIR, start=start, end=end, dest=dest)
    except NothingToExport as e:
        dest.unlink(missing_ok=True)
        return JsonResponse({"errors": {"detail": [str(e)]}}, status=404)
    except Exception:
        dest.unlink(missing_ok=True)
        raise
    local = timezone.localtime(start)
    name = f"{camera.slug}-{local:%Y%m%d-%H%M%S}-{int((end - start).total_seconds())}s.mp4"
    return FileResponse(open_then_unlink(dest), as_attachment=True, filename=name, content_type="video/mp4")


@require_GET
@role_required
def camera_still(request, slug: str):
    """A recent still of the camera (the first frame of its newest recording), for drawing
    zones over; 404 when it has recorded nothing yet."""
    try:
        camera = selectors.camera_by_slug(slug)
    except ValidationError:
        raise Http404("No such camera.") from None
    still = latest_still(camera)
    if still is None:
        raise Http404(f"{camera.name} has no recording yet.")
    response = HttpResponse(still, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=10"
    return response
