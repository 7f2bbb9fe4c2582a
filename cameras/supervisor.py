"""The worker pool behind `manage.py runworkers`: one capture process per camera this
host holds, restarted when it dies, given up on when it flaps.

`Supervisor.step()` does one round (refresh the cameras and leases when due, look after
the processes, write down what they report, run the periodic tasks) and returns; the
command loops over it. Process handles are made by a `spawn` function passed in, so tests
can drive the logic with fakes. The real capture processes are forked by a forkserver (a
fresh interpreter with PyAV preloaded: no Django state or database connection is
inherited), run without Django, and report their status and closed segments over a pipe
(cameras.reports); the supervisor makes those writes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterable

from django.utils import timezone

from ainvr.db import drop_stale_connections
from cameras import leases
from cameras.models import Camera, CameraState
from cameras.process_main import CAPTURE_PRELOAD, CaptureConfig, capture_main
from cameras.reports import apply_report, drain
from cameras.restarts import FLAP_MESSAGE, FLAP_RESTARTS, Supervised
from cameras.specs import CameraSpec

log = logging.getLogger("ainvr.workers")

__all__ = ["FLAP_RESTARTS", "ProcessHandle", "Supervisor", "start_worker_server", "worker_context"]


def default_host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- processes -------------------------------------------------------------------------
_forkserver = None


def worker_context():
    """The multiprocessing context of worker processes: a forkserver that has imported
    PyAV and the capture code once (a spawned interpreter per camera took 0.5-0.75 CPU-s
    and ~45 MB each, and 32 of them 14 s to start)."""
    global _forkserver
    if _forkserver is None:
        _forkserver = multiprocessing.get_context("forkserver")
        _forkserver.set_forkserver_preload(CAPTURE_PRELOAD)
    return _forkserver


def start_worker_server() -> None:
    """Start the forkserver now rather than at the first camera."""
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()


class WorkerProcess:
    """A worker process and the event that asks it to stop (capture or stage)."""

    stop_event = None
    process = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def request_stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float) -> bool:
        self.process.join(timeout)
        return not self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)


class ProcessHandle(WorkerProcess):
    """A capture process, the event that asks it to stop, and the pipe it reports on."""

    def __init__(self, spec: CameraSpec, config: CaptureConfig | None = None, frame_queues: dict | None = None):
        ctx = worker_context()
        self.stop_event = ctx.Event()
        self.reports, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=capture_main,
            args=(spec, self.stop_event, child_end, config or CaptureConfig.from_settings(), frame_queues or {}),
            name=f"capture-{spec.slug}",
            daemon=False,
        )
        self.process.start()
        child_end.close()  # the child holds its own copy: EOF here once it is gone


# --- the pool --------------------------------------------------------------------------
Slot = Supervised  # one camera held by this host: its CameraSpec, process and restarts


class Supervisor:
    def __init__(
        self,
        *,
        host: str | None = None,
        only_slugs: Iterable[str] | None = None,
        spawn: Callable[[CameraSpec], object] | None = None,
        stages=None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable = timezone.now,
        refresh_s: float = 3.0,
        stop_timeout_s: float = 15.0,
        tasks: Iterable = (),
        mark_error: Callable[[int, str], None] | None = None,
        after_crash: Callable[[CameraSpec], None] | None = None,
        apply: Callable[[tuple], None] = apply_report,
    ):
        self.host = host or default_host_id()
        self.only_slugs = set(only_slugs) if only_slugs else None
        self.stages = stages  # a cameras.stages.StagePool, or None
        queues = stages.queues if stages is not None else {}
        self.spawn = spawn or (lambda spec: ProcessHandle(spec, frame_queues=queues))
        self.clock = clock
        self.now = now
        self.refresh_s = refresh_s
        self.stop_timeout_s = stop_timeout_s
        self.tasks = list(tasks)
        self.mark_error = mark_error or _mark_camera_error
        self.after_crash = after_crash or _reconcile_camera
        self.apply = apply
        self.slots: dict[int, Slot] = {}
        # Processes asked to stop, still finishing their segment: (camera id, handle, kill deadline).
        self.stopping: list[tuple[int, object, float]] = []
        self._next_refresh = 0.0

    # --- the loop -----------------------------------------------------------------
    def step(self) -> bool:
        """One round. True when something was started, stopped or run."""
        worked = False
        now = self.clock()
        if now >= self._next_refresh:
            self._next_refresh = now + self.refresh_s
            worked |= self.refresh()
        worked |= self.collect_reports()
        worked |= self.tend(now)
        if self.stages is not None:
            worked |= self.stages.tend(now, wanted=self.wanted_queues())
        for task in self.tasks:
            try:
                worked |= bool(task.step())
            except Exception:
                log.exception("periodic task %s failed", type(task).__name__)
        return worked

    def refresh(self) -> bool:
        """Read the wanted cameras, renew and claim leases, stop what is no longer ours."""
        drop_stale_connections()  # the database may have dropped us since the last round
        wanted = {spec.id: spec for spec in self.wanted_specs()}
        held = leases.claim_all(wanted, host=self.host, now=self.now())
        changed = False
        for camera_id in list(self.slots):
            slot = self.slots[camera_id]
            if camera_id not in held or wanted.get(camera_id) != slot.spec:
                why = "disabled or removed" if camera_id not in wanted else "changed"
                if camera_id in wanted and camera_id not in held:
                    why = "taken by another host"
                log.info("%s: %s, stopping its capture", slot.spec.slug, why)
                self._stop_slot(slot)
                del self.slots[camera_id]
                changed = True
        unwanted_leases = set(self._own_lease_ids()) - set(wanted)
        if unwanted_leases:
            leases.release(unwanted_leases, host=self.host)
        for camera_id in held:
            if camera_id not in self.slots:
                self.slots[camera_id] = Slot(spec=wanted[camera_id])
                changed = True
        return changed

    def collect_reports(self) -> bool:
        """Write down what the processes reported: statuses, closed segments, full disks."""
        handles = [slot.handle for slot in self.slots.values() if slot.handle is not None]
        handles += [handle for _, handle, _ in self.stopping]
        applied = 0
        for handle in handles:
            applied += self._drain(handle)
        return applied > 0

    def _drain(self, handle) -> int:
        reports = getattr(handle, "reports", None)
        if reports is None or reports.closed:
            return 0
        applied, still_open = drain(reports, self.apply)
        if not still_open:
            reports.close()
        return applied

    def tend(self, now: float) -> bool:
        """Start what should run, notice what died, reap what was stopped."""
        worked = self._reap(now)
        finishing = {camera_id for camera_id, _, _ in self.stopping}
        for camera_id, slot in self.slots.items():
            if camera_id in finishing:
                continue  # the old process is still closing its file: one writer per camera
            if slot.handle is not None and not slot.handle.is_alive():
                self._drain(slot.handle)  # its last words: the segment it closed, say
                _forget_metrics(slot.handle)
                code = slot.handle.exitcode
                log.warning("%s: capture process exited with code %s", slot.spec.slug, code)
                slot.handle = None
                self.after_crash(slot.spec)
                slot.restarts.exited(now)
                worked = True
            if slot.handle is None and slot.restarts.due(now):
                if slot.restarts.flapping(now):
                    self._gave_up(slot)
                    continue
                slot.restarts.started(now)
                slot.handle = self.spawn(slot.spec)
                log.info("%s: capture process started (pid %s)", slot.spec.slug, getattr(slot.handle, "pid", "?"))
                worked = True
            elif slot.handle is not None:
                slot.restarts.still_running(now)
        return worked

    def stop(self) -> None:
        """Stop every capture process (each finishes its segment), then free the leases."""
        for slot in list(self.slots.values()):
            self._stop_slot(slot)
        self.slots.clear()
        while self.stopping:
            handle = self.stopping[0][1]
            handle.join(max(0.05, min(0.5, self.stopping[0][2] - self.clock())))
            self._reap(self.clock())
        if self.stages is not None:
            self.stages.stop(self.stop_timeout_s)  # after the cameras: no frame arrives any more
        try:
            drop_stale_connections()
            leases.release_all(host=self.host)
        except Exception:
            log.warning("could not release the leases (they expire by themselves)", exc_info=True)

    def wanted_queues(self) -> set[str]:
        """The stages the cameras held here need."""
        specs = [slot.spec for slot in self.slots.values()]
        wanted = set()
        if any(spec.ai_enabled for spec in specs):
            wanted.add("detection")
        if any(spec.attendance_enabled for spec in specs):
            wanted.add("attendance")
        return wanted

    # --- reads --------------------------------------------------------------------
    def wanted_specs(self) -> list[CameraSpec]:
        cameras = Camera.objects.enabled()
        if self.only_slugs is not None:
            cameras = cameras.filter(slug__in=self.only_slugs)
        return [CameraSpec.from_camera(camera) for camera in cameras]

    def _own_lease_ids(self) -> list[int]:
        from cameras.models import CameraLease

        return list(CameraLease.objects.filter(host=self.host).values_list("camera_id", flat=True))

    # --- internals ----------------------------------------------------------------
    def _gave_up(self, slot: Slot) -> None:
        message = f"The capture process {FLAP_MESSAGE} (or until the camera is changed)."
        log.error("%s: %s", slot.spec.slug, message)
        try:
            self.mark_error(slot.spec.id, message)
        except Exception:
            log.warning("%s: could not mark the camera in error", slot.spec.slug, exc_info=True)

    def _stop_slot(self, slot: Slot) -> None:
        """Ask the process to stop without waiting for it: `_reap` collects it."""
        if slot.handle is None:
            return
        slot.handle.request_stop()
        self.stopping.append((slot.spec.id, slot.handle, self.clock() + self.stop_timeout_s))
        slot.handle = None

    def _reap(self, now: float) -> bool:
        still = []
        for camera_id, handle, deadline in self.stopping:
            self._drain(handle)
            if not handle.is_alive():
                self._drain(handle)
                continue
            if now >= deadline:
                log.warning("camera %s: capture process did not stop in time, killing it", camera_id)
                handle.kill()
                self._drain(handle)
                continue
            still.append((camera_id, handle, deadline))
        reaped = len(still) != len(self.stopping)
        for _, handle, _ in self.stopping:
            if not handle.is_alive():
                _forget_metrics(handle)
        self.stopping = still
        return reaped


def _forget_metrics(handle) -> None:
    from ops import metrics

    pid = getattr(handle, "pid", None)
    if isinstance(pid, int):
        metrics.process_died(pid)


def _mark_camera_error(camera_id: int, message: str) -> None:
    from cameras.services import report_camera_status

    report_camera_status(camera_id, state=CameraState.ERROR, last_error=message)


def _reconcile_camera(spec: CameraSpec) -> None:
    """A capture process that died left its last file without a row: add it now."""
    from recordings.reconcile import reconcile_recordings

    try:
        drop_stale_connections()
        reconcile_recordings(cameras=list(Camera.objects.filter(pk=spec.id)))
    except Exception:
        log.exception("%s: reconciling its recordings failed", spec.slug)
