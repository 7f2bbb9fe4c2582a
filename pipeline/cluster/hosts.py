"""Who a `runworkers` process is among the hosts sharing one database.

A host is named by WORKER_HOST_ID (default: the machine's hostname); each process of it
gets a fresh instance token. The `WorkerHost` row says which instance is that host now;
its heartbeat says the host is alive. A new process takes the row over (and with it the
predecessor's camera leases, at once) when the predecessor is known to be gone:

- its heartbeat is older than WORKER_LEASE_SECONDS (by then it has fenced itself), or
- it ran on this machine, the host's lock file is free (the kernel drops an flock when its
  process dies, kill -9 included) and its pid is not a live process here (or is our own: a
  container's runworkers is pid 1 each time). A live one holds the lock: the newcomer waits
  as its standby instead.

All writes are conditional UPDATEs: the database decides between two newcomers.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cameras.models import CameraLease, WorkerHost
from core.pids import pid_alive

log = logging.getLogger("ainvr.workers")


def machine_id() -> str:
    """The kernel's boot id (shared by the containers of one machine, new at each boot)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return f"{socket.gethostname()}-{uuid.getnode():x}"


@dataclass(frozen=True)
class Identity:
    host: str  # WORKER_HOST_ID
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)  # this process, never reused
    machine: str = field(default_factory=machine_id)
    pid: int = field(default_factory=os.getpid)


class HostLock:
    """An exclusive flock on STATE_DIR/workers/<host>.lock, held for the life of the process.

    STATE_DIR is local to each machine (docs/deployment.md), so it is free exactly when no
    live process of this host runs here."""

    def __init__(self, state_dir: Path, host: str):
        safe = re.sub(r"[^\w.-]", "_", host)
        self.path = Path(state_dir) / "workers" / f"{safe}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def register(me: Identity, *, now: datetime, ttl: timedelta, lock_held: bool) -> bool:
    """Make `me` the live instance of its host. False while another live instance is it.

    On success the leases the host held and that have not expired become this instance's
    (a restart resumes its own cameras at once)."""
    fields = dict(instance=me.instance, machine=me.machine, pid=me.pid, started_at=now, heartbeat_at=now)
    current = WorkerHost.objects.filter(host=me.host).first()
    if current is None:
        _, created = WorkerHost.objects.get_or_create(host=me.host, defaults=fields)
        if not created:
            return False  # another newcomer was first; try again next round
    elif current.instance != me.instance:
        if not predecessor_gone(current, me, now=now, ttl=ttl, lock_held=lock_held):
            return False
        taken = WorkerHost.objects.filter(host=me.host, instance=current.instance).update(**fields)
        if taken != 1:
            return False
        log.info(
            "host %s: took over from its previous process (pid %s, last beat %s)",
            me.host,
            current.pid,
            current.heartbeat_at.isoformat(timespec="seconds"),
        )
    adopted = (
        CameraLease.objects.filter(host=me.host, expires_at__gt=now)
        .exclude(instance=me.instance)
        .update(instance=me.instance, expires_at=now + ttl)
    )
    if adopted:
        log.info("host %s: resumed %d camera lease(s) of its previous process", me.host, adopted)
    return True


def predecessor_gone(row: WorkerHost, me: Identity, *, now: datetime, ttl: timedelta, lock_held: bool) -> bool:
    if row.heartbeat_at < now - ttl:
        return True  # silent for a whole lease: dead, or fenced (it stopped writing)
    return row.machine == me.machine and lock_held and (row.pid == me.pid or not pid_alive(row.pid))


def heartbeat(me: Identity, *, now: datetime, ttl: timedelta) -> bool:
    """Say this instance is alive. False when another process has become this host (a row
    deleted meanwhile is made again)."""
    if WorkerHost.objects.filter(host=me.host, instance=me.instance).update(heartbeat_at=now) == 1:
        return True
    return register(me, now=now, ttl=ttl, lock_held=False)


def live_hosts(*, now: datetime, ttl: timedelta) -> list[str]:
    return sorted(WorkerHost.objects.filter(heartbeat_at__gte=now - ttl).values_list("host", flat=True))


def leave(me: Identity) -> None:
    """A clean stop: the other hosts share the cameras without this one at once."""
    WorkerHost.objects.filter(host=me.host, instance=me.instance).delete()
