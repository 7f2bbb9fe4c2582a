"""The inference stage's counters, and whether live detection is running: one Redis key
per inference process.

Each inference process writes ``ainvr:detector:<host>:<pid>`` every few seconds with a
short expiry, so a process that dies disappears by itself. Pages, the API or metrics
read them with ``detector_statuses()``; nothing here touches the database.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass


@dataclass
class StageMetrics:
    """Counters since the stage started, and the latest inference figures."""

    frames_in: int = 0
    frames_dropped: int = 0  # replaced by a newer frame of the same camera before their turn
    frames_gated: int = 0  # no motion: no inference
    frames_skipped: int = 0  # AI off or unknown camera
    frames_detected: int = 0
    crops: int = 0  # motion crops looked at instead of whole frames
    batches: int = 0
    inference_ms: float | None = None  # last batch, per frame
    inference_ms_avg: float | None = None  # moving average, per frame
    queue_depth: int = 0
    errors: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


KEY_PREFIX = "ainvr:detector:"
TTL_S = 15


def status_key(host: str, pid: int) -> str:
    return f"{KEY_PREFIX}{host}:{pid}"


def publish_detector_status(client, *, host: str, pid: int, detector: str, cameras: list[str], metrics: dict) -> None:
    """Write this process's status (a redis.Redis client); expires after TTL_S seconds."""
    payload = {"host": host, "pid": pid, "detector": detector, "cameras": cameras, "updated_at": time.time()}
    payload.update(metrics)
    client.set(status_key(host, pid), json.dumps(payload), ex=TTL_S)


def detector_statuses(client) -> list[dict]:
    """Every running inference process's latest status, by host then pid. Empty: live
    detection is offline."""
    found = []
    for key in client.scan_iter(match=KEY_PREFIX + "*", count=100):
        raw = client.get(key)
        if raw:
            try:
                found.append(json.loads(raw))
            except ValueError:
                continue
    return sorted(found, key=lambda s: (s.get("host", ""), s.get("pid", 0)))


# --- Stage processes (written by runworkers' StagePool) ------------------------------------
# The inference process's own key above says what it sees; this one, written by the
# supervisor that runs it, says whether it runs at all: a process that died, or is being
# restarted, or was given up on cannot write its own key.
STAGE_PREFIX = "ainvr:stage:"
STAGE_TTL_S = 30  # a runworkers host that stops writing (killed) drops off within this

STAGE_RUNNING = "running"
STAGE_RESTARTING = "restarting"  # exited; started again after a backoff
STAGE_GIVEN_UP = "given_up"  # flapping or misconfigured: not restarted for a while
STAGE_STOPPED = "stopped"  # no camera of the host needs it
STAGE_STATES = (STAGE_RUNNING, STAGE_RESTARTING, STAGE_GIVEN_UP, STAGE_STOPPED)


@dataclass(frozen=True)
class StageStatus:
    """One stage process as its supervisor sees it. Times are Unix seconds."""

    host: str
    name: str  # "detector-cpu", "attendance"
    queue: str  # "detection" or "attendance": what it does
    state: str
    pid: int | None = None
    restarts: int = 0  # exits since runworkers started
    recent_exits: tuple[float, ...] = ()  # exit times within the last RECENT_EXITS_S
    since: float = 0.0  # when it entered `state`
    last_exit_code: int | None = None
    given_up_until: float | None = None
    updated_at: float = 0.0  # the supervisor's last write: its heartbeat

    @property
    def kind(self) -> str:
        return "Detector" if self.queue == "detection" else "Face recognition"

    def as_json(self) -> str:
        value = asdict(self)
        value["recent_exits"] = list(self.recent_exits)
        return json.dumps(value)

    @classmethod
    def from_json(cls, raw) -> StageStatus | None:
        try:
            value = json.loads(raw)
            value["recent_exits"] = tuple(value.get("recent_exits") or ())
            status = cls(**value)
        except (ValueError, TypeError):
            return None
        return status if status.state in STAGE_STATES else None


RECENT_EXITS_S = 600.0


def stage_key(host: str, name: str) -> str:
    return f"{STAGE_PREFIX}{host}:{name}"


def publish_stage_statuses(client, statuses: list[StageStatus]) -> None:
    """Write every stage's status of one host (a redis.Redis client), each expiring after STAGE_TTL_S."""
    with client.pipeline(transaction=False) as pipe:
        for status in statuses:
            pipe.set(stage_key(status.host, status.name), status.as_json(), ex=STAGE_TTL_S)
        pipe.execute()


def stage_statuses(client) -> list[StageStatus]:
    """Every stage process that a live runworkers host reported, by host then name."""
    found = []
    for key in client.scan_iter(match=STAGE_PREFIX + "*", count=100):
        raw = client.get(key)
        status = StageStatus.from_json(raw) if raw else None
        if status is not None:
            found.append(status)
    return sorted(found, key=lambda s: (s.host, s.name))


# --- What the live tile's AI label says ------------------------------------------------------
AI_OFF = "off"  # the camera's AI is switched off
AI_WATCHING = "watching"  # a detector lists the camera: healthy, objects or not
AI_STARTING = "starting"  # the detector process runs but has not reported the camera yet
AI_RESTARTING = "restarting"
AI_DOWN = "down"  # no detector runs for it (dead, given up, or no runworkers host)

AI_LABELS = {
    AI_OFF: "AI off",
    AI_WATCHING: "AI watching",
    AI_STARTING: "AI starting",
    AI_RESTARTING: "AI restarting",
    AI_DOWN: "AI down",
}


def camera_ai_state(slug: str, ai_enabled: bool, detectors: list[dict], stages: list[StageStatus]) -> str:
    """The AI state of one camera from the detectors' own keys and their supervisors' keys.
    Stages are not matched to the camera's host: with several hosts, one host's detector
    restarting shows as "restarting" on cameras of a host whose detector is gone."""
    if not ai_enabled:
        return AI_OFF
    # A detector's own key outlives it by up to TTL_S: its supervisor's key says it is gone.
    running = {(s.host, s.pid) for s in stages if s.queue == "detection" and s.state == STAGE_RUNNING}
    supervised = {s.host for s in stages if s.queue == "detection"}
    alive = [d for d in detectors if d.get("host") not in supervised or (d.get("host"), d.get("pid")) in running]
    if any(slug in (d.get("cameras") or ()) for d in alive):
        return AI_WATCHING
    states = {s.state for s in stages if s.queue == "detection"}
    if STAGE_RUNNING in states:
        return AI_STARTING
    if STAGE_RESTARTING in states:
        return AI_RESTARTING
    return AI_DOWN
