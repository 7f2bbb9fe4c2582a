"""What is wrong now: reads only. Each check returns the troubles it sees; a check that
cannot look (Redis away, a disk unreadable) says so by returning None, and the troubles it
found before are kept rather than taken for fixed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Sum
from django.utils.formats import date_format
from django.utils.timezone import localtime

from cameras.models import Camera, CameraState
from detection.status import STAGE_GIVEN_UP, STAGE_RESTARTING, STAGE_RUNNING
from notifications.models import HealthTrigger
from recordings.models import Segment, StorageSettings

log = logging.getLogger("ainvr.health")

# An online camera whose status has not been refreshed for this long is not being recorded:
# capture processes refresh it every 5 s, so its runworkers host is gone or stuck.
CAMERA_STALE_S = 30
# A stage that exited this many times within detection.status.RECENT_EXITS_S (10 minutes)
# is restarting in a loop, even while its latest process runs.
STAGE_LOOP_EXITS = 3


@dataclass(frozen=True)
class Trouble:
    subject: str  # unique: "camera:12", "disk:recordings", "stage:<host>:<name>"
    kind: str  # a HealthTrigger value
    title: str  # what is in trouble: "Gate", "Detector on nvr-1"
    detail: str
    since: datetime | None = None  # when it began, if known; else when first seen
    camera_id: int | None = None


def camera_troubles(now: datetime) -> list[Trouble]:
    """Enabled cameras not online, or online with a status gone stale."""

    troubles = []
    for camera in Camera.objects.enabled().with_status().order_by("pk"):
        status = getattr(camera, "status", None)  # the reverse one-to-one raises when absent
        if status is not None and status.state == CameraState.ONLINE:
            seen = status.last_frame_at or status.updated_at
            if seen is None or (now - seen).total_seconds() <= CAMERA_STALE_S:
                continue
            detail = f"No frame since {_when(seen)}: its runworkers host may be down."
        else:
            seen = status.last_frame_at if status is not None else None
            state = status.get_state_display().lower() if status is not None else "not seen yet"
            detail = f"The camera is {state}" + (f": {status.last_error}" if status and status.last_error else ".")
        troubles.append(
            Trouble(f"camera:{camera.pk}", HealthTrigger.CAMERA_OFFLINE, camera.name, detail, since=seen,
                    camera_id=camera.pk)
        )  # fmt: skip
    return troubles


def storage_troubles(disks, *, min_free_percent: float, min_free_bytes: int | None, recordings_bytes: int,
                     max_total_bytes: int | None) -> list[Trouble]:  # fmt: skip
    """Data disks below `min_free_percent` free; the recordings disk below the minimum free
    space retention keeps, or recordings past their size cap by 10 %: retention is not
    keeping up. `disks`: ops.selectors.DiskRow."""
    troubles = []
    for disk in disks:
        problems = []
        if disk.total and 100.0 * disk.free / disk.total < min_free_percent:
            problems.append(f"{_gb(disk.free)} free of {_gb(disk.total)}, below {min_free_percent:g} %")
        if disk.key == "recordings" and min_free_bytes and disk.free < min_free_bytes:
            problems.append(
                f"below the {_gb(min_free_bytes)} that retention keeps free: retention is not keeping up"
            )  # fmt: skip
        if disk.key == "recordings" and max_total_bytes and recordings_bytes > 1.1 * max_total_bytes:
            problems.append(
                f"recordings use {_gb(recordings_bytes)}, past their {_gb(max_total_bytes)} cap: "
                "retention is not keeping up"
            )  # fmt: skip
        if problems:
            title = f"{disk.label} disk ({disk.path})"
            troubles.append(Trouble(f"disk:{disk.key}", HealthTrigger.STORAGE_LOW, title, "; ".join(problems) + "."))
    return troubles


def stage_troubles(stages) -> list[Trouble]:
    """Stage processes (detection.status.StageStatus) dead and waiting for their restart,
    given up on, or restarting in a loop."""

    troubles = []
    for stage in stages:
        title = f"{stage.kind} ({stage.name}) on {stage.host}"
        subject = f"stage:{stage.host}:{stage.name}"
        since = _from_unix(stage.since) if stage.since else None
        exits = len(stage.recent_exits)
        code = f" with code {stage.last_exit_code}" if stage.last_exit_code is not None else ""
        if stage.state == STAGE_GIVEN_UP:
            until = f" until {_when(_from_unix(stage.given_up_until))}" if stage.given_up_until else ""
            detail = f"It kept crashing (last exit{code}): not restarted{until}."
        elif stage.state == STAGE_RESTARTING:
            detail = f"The process exited{code}; it is being restarted ({stage.restarts} restarts so far)."
        elif stage.state == STAGE_RUNNING and exits >= STAGE_LOOP_EXITS:
            detail = f"Restarting in a loop: {exits} exits in the last 10 minutes (last{code})."
            since = _from_unix(min(stage.recent_exits))
        else:
            continue
        troubles.append(Trouble(subject, HealthTrigger.STAGE_DOWN, title, detail, since=since))
    return troubles


def observe(now: datetime, *, read_stages: Callable[[], list], disk_rows: Callable[[], list]) -> tuple[list, set]:
    """Every trouble now, and the kinds that could be looked at (the others keep theirs)."""

    troubles = camera_troubles(now)
    looked = {HealthTrigger.CAMERA_OFFLINE.value}
    try:
        storage = StorageSettings.load()
        recordings_bytes = Segment.objects.aggregate(total=Sum("size_bytes"))["total"] or 0
        troubles += storage_troubles(
            disk_rows(),
            min_free_percent=settings.HEALTH_MIN_FREE_PERCENT,
            min_free_bytes=int(storage.min_free_gb * 1024**3) if storage.min_free_gb else None,
            recordings_bytes=recordings_bytes,
            max_total_bytes=int(storage.max_total_gb * 1024**3) if storage.max_total_gb else None,
        )
        looked.add(HealthTrigger.STORAGE_LOW.value)
    except OSError:
        log.warning("health: could not read the disks", exc_info=True)
    try:
        stages = read_stages()
    except Exception:  # Redis away: what was down stays down until we can look again
        log.warning("health: could not read the stage statuses", exc_info=True)
    else:
        troubles += stage_troubles(stages)
        looked.add(HealthTrigger.STAGE_DOWN.value)
    return troubles, looked


def _from_unix(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _when(at: datetime) -> str:
    return date_format(localtime(at), "Y-m-d H:i:s")


def _gb(n: int) -> str:
    return f"{n / 1024**3:.1f} GB"
