"""A still picture of a camera from its recordings: what zone editors draw over."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from django.conf import settings

from cameras.models import Camera
from recordings.models import Segment

log = logging.getLogger("ainvr.playback")

# Look back over at most this many recent files for one that decodes (the newest may be
# half-written or just deleted by retention).
RECENT_SEGMENTS = 5


def latest_still(camera: Camera, *, max_side: int = 1280) -> bytes | None:
    """A JPEG of the first frame of the camera's newest readable recording (at most a
    segment's length old), scaled to `max_side`; None when it has none."""
    import av

    for segment in Segment.objects.filter(camera=camera).order_by("-start")[:RECENT_SEGMENTS]:
        try:
            with av.open(str(Path(settings.RECORDINGS_DIR) / segment.path)) as container:
                frame = next(container.decode(video=0), None)
        except Exception:  # half-written, deleted meanwhile, not video
            log.debug("no still from %s", segment.path, exc_info=True)
            continue
        if frame is None:
            continue
        image = frame.to_image()
        image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        return out.getvalue()
    return None
