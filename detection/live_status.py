"""Whether live detection watches each camera, for the live tile's AI label: read from the
keys the detector processes and their supervisors write (detection.status), and pushed to
the dashboards when it changes (`AiStateTask`, run by runworkers).

"AI watching" means a detector lists the camera: healthy, whether or not it sees objects
(with motion gating a still scene runs no inference and sends no boxes). "AI restarting"
and "AI down" are the detector process dying or gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings

from cameras.models import Camera
from core.periodic import PeriodicTask
from core.realtime import broadcast_on_commit, camera_group
from core.redis_client import redis_client
from detection.status import AI_LABELS, camera_ai_state, detector_statuses, stage_statuses

log = logging.getLogger("detection.stage")


def read_statuses() -> tuple[list[dict], list]:
    """(detector statuses, stage statuses) from Redis; raises when Redis cannot be read."""
    if not settings.REDIS_URL:
        raise RuntimeError("REDIS_URL is not set")  # camera_ai_states checks it first
    client = redis_client(settings.REDIS_URL)
    return detector_statuses(client), stage_statuses(client)


def camera_ai_states(read: Callable[[], tuple[list, list]] = read_statuses) -> dict[str, str]:
    """Each enabled camera's AI state by slug (detection.status.AI_*); empty when the
    statuses cannot be read (no REDIS_URL, Redis away): the page then says "AI waiting"."""
    if not settings.REDIS_URL:
        return {}
    try:
        detectors, stages = read()
    except Exception:  # Redis away: the label keeps its neutral text
        log.warning("could not read the detector statuses", exc_info=True)
        return {}
    cameras = Camera.objects.enabled().values_list("slug", "ai_enabled")
    return {slug: camera_ai_state(slug, ai, detectors, stages) for slug, ai in cameras}


def ai_payload(slug: str, state: str) -> dict:
    """The dashboard event "camera.ai" (static/ainvr/live.js)."""
    return {"camera": slug, "state": state, "label": AI_LABELS[state]}


class AiStateTask(PeriodicTask):
    """Every `interval_s`, tells the dashboards of each camera whose AI state changed (all of
    them at the first run). The states last sent are this task's own."""

    failure_message = "AI state broadcast failed"

    def __init__(self, *, interval_s: float = 3.0, clock: Callable[[], float] = time.monotonic, read=read_statuses):
        super().__init__(interval_s=interval_s, clock=clock)
        self.read = read
        self.sent: dict[str, str] = {}

    def run(self) -> None:
        states = camera_ai_states(self.read)
        for slug, state in states.items():
            if self.sent.get(slug) != state:
                broadcast_on_commit(camera_group(slug), "camera.ai", ai_payload(slug, state))
        if states:
            self.sent = states
