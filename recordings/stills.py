"""Still pictures of a camera from its recordings: what zone editors draw over, and the
timeline's previews."""

from __future__ import annotations

import io
import logging
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import cast

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


# Timeline previews are asked for every few pixels of a hover: the last ones are kept, by
# segment and 2-second step (PREVIEW_STEP_S), a few kilobytes each.
PREVIEW_STEP_S = 2
_PREVIEWS: OrderedDict[tuple[int, int], bytes] = OrderedDict()
PREVIEWS_KEPT = 256


def preview_at(camera: Camera, at, *, max_side: int = 320) -> bytes | None:
    """A small JPEG of the camera's recording at `at`: the keyframe at or before it (a GOP's
    decoding at most, never the whole file), rounded down to a 2-second step; None where
    nothing was recorded."""
    import av

    segment = Segment.objects.filter(camera=camera, start__lte=at, end__gt=at).order_by("-start").first()
    if segment is None:
        return None
    step = int((at - segment.start).total_seconds() // PREVIEW_STEP_S) * PREVIEW_STEP_S
    key = (segment.pk, step)
    if key in _PREVIEWS:
        _PREVIEWS.move_to_end(key)
        return _PREVIEWS[key]
    try:
        with av.open(str(Path(settings.RECORDINGS_DIR) / segment.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if step:
                container.seek(
                    int(step / cast(Fraction, stream.time_base)), stream=stream, backward=True, any_frame=False
                )
            frame = next(container.decode(stream), None)
    except Exception:  # deleted by retention meanwhile, half-written
        log.debug("no preview from %s", segment.path, exc_info=True)
        return None
    if frame is None:
        return None
    image = frame.to_image()
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    _PREVIEWS[key] = out.getvalue()
    while len(_PREVIEWS) > PREVIEWS_KEPT:
        _PREVIEWS.popitem(last=False)
    return _PREVIEWS[key]
