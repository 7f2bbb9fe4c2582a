"""runworkers hosts' heartbeats in Redis, for the admin status page.

Imports nothing from Django. The supervisor calls `beat()` every few seconds; a host
whose key has expired (HEARTBEAT_TTL_S without a beat) is shown as silent. Leases tell
which cameras a host holds; the heartbeat also shows a host that holds none.
"""

from __future__ import annotations

import json
import os
import socket
import time

KEY_PREFIX = "ainvr:heartbeat:"
HEARTBEAT_TTL_S = 60


def beat(redis_client, host: str | None = None, *, cameras: list[str] = (), ttl: int = HEARTBEAT_TTL_S) -> None:
    """Record that `host` (default: this machine's name) is alive now, holding `cameras` (slugs)."""
    host = host or socket.gethostname()
    value = {"host": host, "pid": os.getpid(), "at": time.time(), "cameras": sorted(cameras)}
    redis_client.set(KEY_PREFIX + host, json.dumps(value), ex=ttl)


def read_all(redis_client) -> list[dict]:
    """Every host that beat within its TTL, with `age_s` since its last beat."""
    now = time.time()
    hosts = []
    for key in redis_client.scan_iter(match=KEY_PREFIX + "*", count=100):
        raw = redis_client.get(key)
        if raw is None:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        value["age_s"] = max(0.0, now - float(value.get("at", now)))
        hosts.append(value)
    return sorted(hosts, key=lambda h: h.get("host", ""))
