"""The face backend and roster matcher the settings ask for (worker and RQ jobs only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from attendance.recognition.matcher import RosterMatcher
    from detection.backends.face.base import FaceBackend


def face_backend_from_settings() -> FaceBackend:
    """Build the configured face backend; FaceBackendUnavailable says in one line what is missing."""
    from detection.backends.face import get_face_backend

    name = settings.ATTENDANCE_FACE_BACKEND
    if name == "insightface":
        return get_face_backend(name, pack_dir=settings.ATTENDANCE_INSIGHTFACE_PACK)
    return get_face_backend(name, model_dir=settings.ATTENDANCE_FACE_MODEL_DIR)


def roster_matcher_for(backend: FaceBackend, **overrides: Any) -> RosterMatcher:
    from attendance.recognition.matcher import RosterMatcher
    from attendance.selectors import load_roster, roster_signature

    options: dict[str, Any] = {
        "load": lambda: load_roster(backend.model_name, backend.dimension),
        "signature": lambda: roster_signature(backend.model_name),
        "dimension": backend.dimension,
        "threshold": settings.ATTENDANCE_MATCH_THRESHOLD,
        "recheck_seconds": settings.ATTENDANCE_ROSTER_RECHECK_SECONDS,
    }
    options.update(overrides)
    return RosterMatcher(**options)
