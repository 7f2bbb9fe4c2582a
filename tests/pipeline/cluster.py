"""Worker hosts sharing one database, for tests: Supervisor objects with fake processes
and one fake clock, stepped round by round (tests/pipeline/test_supervisor_hosts.py and
test_supervisor_fencing.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from cameras.models import Camera
from cameras.services import save_camera
from pipeline.supervisor import Supervisor

LEASE_S = 30


class FakeProcess:
    def __init__(self, spec, host):
        self.spec = spec
        self.host = host
        self.alive = True
        self.exitcode = None
        self.stop_requested = False
        self.pid = id(self)

    def is_alive(self):
        return self.alive

    def request_stop(self):
        self.stop_requested = True
        self.alive = False  # finishes its segment at once, here
        self.exitcode = 0

    def join(self, timeout):
        return not self.alive

    def kill(self):
        self.alive = False


class Clock:
    def __init__(self):
        self.t = 1000.0
        self.wall = timezone.now()

    def __call__(self):
        return self.t

    def now(self):
        return self.wall + timedelta(seconds=self.t - 1000.0)

    def advance(self, seconds):
        self.t += seconds


class Cluster:
    """Hosts stepped in turn, a second of fake time per round; every round checks that no
    camera has two live writers and notes which host holds each camera."""

    def __init__(self):
        self.clock = Clock()
        self.hosts: dict[str, Supervisor] = {}
        self.processes: list[FakeProcess] = []
        self.moves: dict[int, list[tuple[float, str]]] = {}  # camera -> (time, new holder)

    def start(self, name: str, **kwargs) -> Supervisor:
        def spawn(spec):
            process = FakeProcess(spec, name)
            self.processes.append(process)
            return process

        self.hosts[name] = Supervisor(
            host=name,
            spawn=spawn,
            clock=self.clock,
            now=self.clock.now,
            lease_s=LEASE_S,
            mark_error=lambda camera_id, message: None,
            after_crash=lambda spec: None,
            reconcile=lambda spec: None,
            **kwargs,
        )
        return self.hosts[name]

    def kill(self, name: str) -> None:
        """kill -9: the host stops stepping, its capture processes die with it."""
        del self.hosts[name]
        for process in self.processes:
            if process.host == name:
                process.alive = False

    def rounds(self, n: int) -> None:
        for _ in range(n):
            for supervisor in list(self.hosts.values()):
                supervisor.step()
            self.check()
            self.clock.advance(1)

    def check(self) -> None:
        writers = Counter(p.spec.id for p in self.processes if p.is_alive())
        assert all(n == 1 for n in writers.values()), f"recorded twice: {writers}"
        for camera_id, host in self.holders().items():
            history = self.moves.setdefault(camera_id, [])
            if not history or history[-1][1] != host:
                history.append((self.clock(), host))

    def holders(self) -> dict[int, str]:
        alive = {p.spec.id: p.host for p in self.processes if p.is_alive()}
        return alive

    def shares(self) -> dict[str, int]:
        counts = Counter(self.holders().values())
        return {name: counts.get(name, 0) for name in sorted(self.hosts)}

    def handovers(self) -> int:
        return sum(len(history) - 1 for history in self.moves.values())


def add_cameras(n: int) -> list[Camera]:
    return [
        save_camera(Camera(name=f"Cam {i}", slug=f"cam-{i}", stream_url=f"rtsp://192.0.2.1/{i}", ai_enabled=False))
        for i in range(n)
    ]
