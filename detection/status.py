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
