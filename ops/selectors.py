"""Reads for /healthz, the admin status page and the metrics scrape."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone

from cameras.models import Camera, CameraLease, WorkerHost
from core.redis_client import redis_client
from detection.status import detector_statuses, stage_statuses
from recordings.models import Segment, StorageSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    import redis


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as e:  # any driver error means the same thing here: unhealthy
        return Check("database", False, _first_line(e))
    return Check("database", True, connection.vendor)


def check_redis() -> Check | None:
    """None when no REDIS_URL is set (nothing to check)."""
    if not settings.REDIS_URL:
        return None
    try:
        client = redis_client(settings.REDIS_URL)
        client.ping()
        version = client.info("server").get("redis_version", "")
    except Exception as e:  # connection refused, timeout, auth: all unhealthy
        return Check("redis", False, _first_line(e))
    return Check("redis", True, f"Redis {version}")


def health_checks() -> list[Check]:
    return [check for check in (check_database(), check_redis()) if check is not None]


@dataclass
class QueueRow:
    name: str
    queued: int
    started: int
    failed: int


@dataclass
class WorkerRow:
    name: str
    host: str
    state: str
    queues: str
    last_heartbeat: datetime | None


@dataclass
class HostRow:
    host: str
    cameras: list[str] = field(default_factory=list)
    lease_renewed: datetime | None = None  # last renewal of its freshest camera lease
    heartbeat_age_s: float | None = None
    alive: bool = False


@dataclass
class CameraRow:
    name: str
    slug: str
    enabled: bool
    state: str
    last_frame_at: datetime | None
    fps: float | None
    host: str
    last_error: str


@dataclass
class DiskRow:
    label: str  # every data folder on this disk: "Recordings, media, data"
    path: str
    total: int
    used: int
    free: int
    key: str = ""  # the first of them, lower case: the metrics' `disk` label


@dataclass
class StageRow:
    """A detector or face recognition process, as its runworkers host last reported it."""

    host: str
    name: str
    kind: str  # "Detector", "Face recognition"
    state: str  # detection.status.STAGE_*
    pid: int | None
    restarts: int
    recent_exits: int
    last_exit_code: int | None
    heartbeat_age_s: float
    cameras: list[str] = field(default_factory=list)  # what the detector itself reports watching
    inference_ms: float | None = None

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "stopped")

    @property
    def state_label(self) -> str:
        return self.state.replace("_", " ")


@dataclass
class Status:
    checks: list[Check]
    queues: list[QueueRow]
    workers: list[WorkerRow]
    rq_error: str
    hosts: list[HostRow]
    cameras: list[CameraRow]
    disks: list[DiskRow]
    recordings_bytes: int
    max_total_bytes: int | None
    min_free_bytes: int | None
    warnings: list[str]
    stages: list[StageRow] = field(default_factory=list)


def rq_state(client: redis.Redis) -> tuple[list[QueueRow], list[WorkerRow]]:
    from rq import Queue, Worker

    queues = []
    for name in settings.RQ_QUEUES:
        queue = Queue(name, connection=client)
        queues.append(
            QueueRow(name, queue.count, queue.started_job_registry.count, queue.failed_job_registry.count)
        )  # fmt: skip
    workers = [
        WorkerRow(
            worker.name,
            worker.hostname or "",
            str(worker.get_state()),
            ", ".join(worker.queue_names()),
            worker.last_heartbeat,
        )  # fmt: skip
        for worker in Worker.all(connection=client)
    ]
    return queues, sorted(workers, key=lambda w: w.name)


def hosts_and_cameras(now: datetime) -> tuple[list[HostRow], list[CameraRow]]:
    """The runworkers hosts (their heartbeat rows, and any host a lease still names) and
    every camera with the host that holds it."""

    ttl = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    hosts: dict[str, HostRow] = {}
    for lease in CameraLease.objects.values("host").annotate(latest=Max("expires_at"), n=Count("camera")):
        hosts[lease["host"]] = HostRow(lease["host"], lease_renewed=lease["latest"] - ttl)
    for beat in WorkerHost.objects.values("host", "heartbeat_at"):
        row = hosts.setdefault(beat["host"], HostRow(beat["host"]))
        row.heartbeat_age_s = max(0.0, (now - beat["heartbeat_at"]).total_seconds())
    cameras = []
    for camera in Camera.objects.with_status().select_related("lease").order_by("name"):
        status = camera.current_status
        held: CameraLease | None = getattr(camera, "lease", None)  # the reverse one-to-one raises when absent
        live_lease = held is not None and held.expires_at > now
        if held is not None and live_lease:
            hosts[held.host].cameras.append(camera.slug)
        cameras.append(
            CameraRow(
                camera.name, camera.slug, camera.enabled, status.state, status.last_frame_at, status.fps,
                held.host if held is not None and live_lease else "", status.last_error,
            )
        )  # fmt: skip
    for row in hosts.values():
        leased = row.lease_renewed is not None and row.lease_renewed + ttl > now
        row.alive = leased or (row.heartbeat_age_s is not None and row.heartbeat_age_s < ttl.total_seconds())
    return sorted(hosts.values(), key=lambda h: h.host), cameras


def stage_rows(client: redis.Redis, now: float | None = None) -> list[StageRow]:
    """The stage processes every live runworkers host reports (detection.status), with what
    each detector says it watches."""

    now = time.time() if now is None else now
    detectors = {(d.get("host"), d.get("pid")): d for d in detector_statuses(client)}
    rows = []
    for s in stage_statuses(client):
        own = detectors.get((s.host, s.pid)) if s.state == "running" else None
        rows.append(
            StageRow(
                s.host, s.name, s.kind, s.state, s.pid, s.restarts, len(s.recent_exits), s.last_exit_code,
                max(0.0, now - s.updated_at), cameras=list((own or {}).get("cameras") or []),
                inference_ms=(own or {}).get("inference_ms_avg"),
            )
        )  # fmt: skip
    return rows


def disks(usage: Callable[[Path], Any] = shutil.disk_usage) -> list[DiskRow]:
    """The data folders' disks (`usage`: shutil.disk_usage, passed in by tests)."""
    rows: list[DiskRow] = []
    seen: dict[int, DiskRow] = {}
    for label, path in (
        ("Recordings", settings.RECORDINGS_DIR),
        ("Media", settings.MEDIA_ROOT),
        ("Data", settings.DATA_DIR),
    ):
        path = Path(path)
        try:
            device = path.stat().st_dev
            figures = usage(path)
        except OSError:
            continue
        if device in seen:
            seen[device].label += f", {label.lower()}"
            continue
        seen[device] = DiskRow(label, str(path), figures.total, figures.used, figures.free, key=label.lower())
        rows.append(seen[device])
    return rows


def status() -> Status:
    """Everything the admin status page shows; never raises for a service that is down."""

    now = timezone.now()
    checks = health_checks()
    queues: list[QueueRow] = []
    workers: list[WorkerRow] = []
    stages: list[StageRow] = []
    rq_error = ""
    if settings.REDIS_URL and all(c.ok for c in checks if c.name == "redis"):
        try:
            client = redis_client(settings.REDIS_URL)
            queues, workers = rq_state(client)
            stages = stage_rows(client)
        except Exception as e:  # shown on the page; the rest of the page still works
            rq_error = _first_line(e)
    elif not settings.REDIS_URL:
        rq_error = "REDIS_URL is not set: no job queues"
    else:
        rq_error = "Redis is unreachable"
    hosts, cameras = hosts_and_cameras(now)
    storage = StorageSettings.load()
    recordings_bytes = Segment.objects.aggregate(total=Sum("size_bytes"))["total"] or 0
    max_total = int(storage.max_total_gb * 1e9) if storage.max_total_gb else None
    min_free = int(storage.min_free_gb * 1e9) if storage.min_free_gb else None
    disk_rows = disks()
    warnings = _warnings(checks, hosts, cameras, disk_rows, recordings_bytes, max_total, min_free)
    warnings += [f"{s.kind} process {s.name} on {s.host} is {s.state_label}" for s in stages if not s.healthy]
    return Status(
        checks, queues, workers, rq_error, hosts, cameras, disk_rows, recordings_bytes, max_total, min_free, warnings,
        stages,
    )  # fmt: skip


def _warnings(
    checks: list[Check],
    hosts: list[HostRow],
    cameras: list[CameraRow],
    disk_rows: list[DiskRow],
    recordings_bytes: int,
    max_total: int | None,
    min_free: int | None,
) -> list[str]:
    warnings = [f"{c.name} is down: {c.detail}" for c in checks if not c.ok]
    warnings += [f"runworkers host {h.host} is silent" for h in hosts if not h.alive]
    unheld = [c.name for c in cameras if c.enabled and not c.host]
    if unheld:
        warnings.append(f"no runworkers host holds {', '.join(unheld)}")
    if max_total and recordings_bytes > 0.9 * max_total:
        warnings.append("recordings are past 90% of the total size cap: the oldest are being deleted")
    recordings_disk = next((d for d in disk_rows if d.key == "recordings"), None)
    if recordings_disk and min_free and recordings_disk.free < 1.5 * min_free:
        warnings.append("the recordings disk is close to the minimum free space")
    return warnings


def scrape_values() -> dict[str, list[Any]]:
    """What /metrics computes at scrape time (not reported by the pipeline)."""

    values: dict[str, list[Any]] = {"disks": disks(), "cameras": [], "stages": []}
    if settings.REDIS_URL:
        try:
            values["stages"] = stage_rows(redis_client(settings.REDIS_URL))
        except Exception:  # Redis away: the scrape still answers, without the stages
            values["stages"] = []
    for camera in Camera.objects.with_status().order_by("slug"):
        status = camera.current_status
        values["cameras"].append((camera.slug, camera.enabled, status.state, status.fps))
    return values


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]
