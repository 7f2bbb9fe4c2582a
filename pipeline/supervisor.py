"""The worker pool behind `manage.py runworkers`: one capture process per camera this
host holds, restarted when it dies, given up on when it flaps.

`Supervisor.step()` does one round (refresh the cameras and leases when due, look after
the processes, write down what they report, run the periodic tasks) and returns; the
command loops over it. Process handles are made by a `spawn` function passed in, so tests
can drive the logic with fakes. The real capture processes are forked by a forkserver (a
fresh interpreter with PyAV preloaded: no Django state or database connection is
inherited), run without Django, and report their status and closed segments over a pipe
(pipeline.reports); the supervisor makes those writes.

Several hosts may share the database (pipeline.cluster.hosts, pipeline.cluster.leases): each round renews
this host's heartbeat and leases, claims its share of the free cameras and hands over
what it has too much of; a host that cannot renew stops writing before its leases expire
(pipeline.cluster.fencing); periodic tasks run on one host at a time (core.periodic).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from cameras.models import Camera, CameraLease, CameraState
from cameras.secrets import CredentialsUnreadable
from cameras.selectors import stream_url_for_worker
from cameras.services import report_camera_status
from core import metrics
from core.db import drop_stale_connections
from core.periodic import one_host_at_a_time
from pipeline.cluster import hosts, leases
from pipeline.cluster.fencing import Fence
from pipeline.cluster.membership import Membership
from pipeline.forkserver import ProcessHandle
from pipeline.report_writer import apply_report
from pipeline.reports import Report, drain
from pipeline.restarts import FLAP_MESSAGE, Supervised, WorkerHandle
from pipeline.specs import CameraSpec
from recordings.reconcile import reconcile_camera

if TYPE_CHECKING:
    from pipeline.stage_pool import StagePool

log = logging.getLogger("ainvr.workers")

# A file nobody wrote to for a segment's length plus this is finished or abandoned: the
# supervisor then reconciles a camera it took over (a writer touches its file every second).
RECONCILE_MARGIN_S = 15.0

# --- the pool --------------------------------------------------------------------------
Slot = Supervised[CameraSpec]  # one camera held by this host: its CameraSpec, process and restarts


def camera_spec(camera: Camera) -> CameraSpec:
    """What `camera`'s capture process is handed (its credentials decrypted, in memory)."""
    try:
        main_url, detect_url = stream_url_for_worker(camera, "main"), stream_url_for_worker(camera, "detect")
        error = ""
    except CredentialsUnreadable as e:
        # Not a crash loop: the capture process reports this and opens nothing.
        main_url, detect_url, error = camera.stream_url, camera.detect_url or camera.stream_url, str(e)
    return CameraSpec(
        id=camera.pk,
        slug=camera.slug,
        name=camera.name,
        main_url=main_url,
        detect_url=detect_url,
        credentials_error=error,
        record=camera.recording_enabled,
        segment_seconds=camera.segment_seconds,
        ai_enabled=camera.ai_enabled,
        detect_fps=camera.detect_fps,
        motion_gating=camera.motion_gating,
        rotation=camera.rotation,
        frame_side=settings.DETECTOR_FRAME_SIDE,
        attendance_enabled=camera.attendance_enabled,
    )


class Supervisor(Membership):
    def __init__(
        self,
        *,
        host: str | None = None,
        identity: hosts.Identity | None = None,
        lock_held: bool = False,
        only_slugs: Iterable[str] | None = None,
        spawn: Callable[[CameraSpec], WorkerHandle] | None = None,
        stages: StagePool | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
        refresh_s: float | None = None,
        lease_s: float | None = None,
        stop_timeout_s: float = 15.0,
        tasks: Iterable[Any] = (),  # PeriodicTasks, or anything with a step()
        mark_error: Callable[[int, str], None] | None = None,
        after_crash: Callable[[CameraSpec], None] | None = None,
        reconcile: Callable[[CameraSpec], None] | None = None,
        apply: Callable[[Report], None] = apply_report,
    ) -> None:
        self.me = identity or hosts.Identity(host or settings.WORKER_HOST_ID)
        self.host = self.me.host
        # True when this process holds the host's lock file (pipeline.cluster.hosts.HostLock): no
        # other live process of this host runs on this machine.
        self.lock_held = lock_held
        self.only_slugs = set(only_slugs) if only_slugs else None
        self.stages = stages  # a pipeline.stage_pool.StagePool, or None
        queues = stages.queues if stages is not None else {}
        self.spawn = spawn or (lambda spec: ProcessHandle(spec, frame_queues=queues))
        self.clock = clock
        self.now = now
        lease_s = float(lease_s or settings.WORKER_LEASE_SECONDS)
        self.ttl = timedelta(seconds=lease_s)
        self.refresh_s = refresh_s if refresh_s is not None else leases.refresh_interval(lease_s)
        self.fence = Fence(ttl_s=lease_s, margin_s=leases.fence_margin(lease_s))
        self.stop_timeout_s = stop_timeout_s
        turns = leases.TaskTurns(host=self.host, instance=self.me.instance, now=now)
        self.tasks = one_host_at_a_time(tasks, turns)
        self.mark_error = mark_error or _mark_camera_error
        self.after_crash = after_crash or _reconcile_camera
        self.reconcile = reconcile or _reconcile_settled
        self.apply = apply
        self.slots: dict[int, Slot] = {}
        # Processes asked to stop, still finishing their segment: (camera id, handle, kill deadline).
        self.stopping: list[tuple[int, WorkerHandle, float]] = []
        self.registered = False  # this process is its host's live instance
        self.handing_over: set[int] = set()  # stopping for another host: the lease goes once stopped
        self.share = leases.Share(host=self.host, instance=self.me.instance, ttl=self.ttl, grace_s=2 * self.refresh_s)
        self._reconcile_at: dict[int, float] = {}  # cameras taken over: reconcile their files then
        self._fenced_logged = False
        self._next_refresh = 0.0

    # --- the loop -----------------------------------------------------------------
    def step(self) -> bool:
        """One round. True when something was started, stopped or run."""
        worked = False
        now = self.clock()
        if now >= self._next_refresh:
            self._next_refresh = now + self.refresh_s
            worked |= self.refresh()
            now = self.clock()  # the database may have taken a while
        worked |= self.enforce_fence(now)
        worked |= self.collect_reports()
        worked |= self.tend(now)
        worked |= self.hand_over_stopped()
        worked |= self.reconcile_taken_over(now)
        if self.stages is not None:
            worked |= self.stages.tend(now, wanted=self.wanted_queues())
        for task in self.tasks:
            try:
                worked |= bool(task.step())
            except Exception:
                log.exception("periodic task %s failed", type(task).__name__)
        return worked

    def refresh(self) -> bool:
        """Renew this host's heartbeat and leases, take its share, stop what is no longer
        ours. A database error is logged: the processes keep recording until the fence."""
        started = self.clock()
        try:
            drop_stale_connections()  # the database may have dropped us since the last round
            changed, renewed = self._refresh(self.now())
        except DatabaseError as e:
            left = (self.fence.until or started) - started
            log.warning("host %s: cannot renew its leases (%s); recording stops in %.0f s", self.host, e, left)
            return False
        if renewed:
            self.fence.renewed(started)
            if self._fenced_logged:
                log.info("host %s: the database is back: recording again", self.host)
            self._fenced_logged = False
        return changed

    def _refresh(self, wall: datetime) -> tuple[bool, bool]:
        if not self.registered:
            self.registered = hosts.register(self.me, now=wall, ttl=self.ttl, lock_held=self.lock_held)
            if not self.registered:
                log.info("host %s: another live process is this host; waiting as its standby", self.host)
                return self._drop_all(), False
        elif not hosts.heartbeat(self.me, now=wall, ttl=self.ttl):
            log.error("host %s: another process has become this host: stopping its cameras", self.host)
            self.registered = False
            return self._drop_all(), False
        wanted = {spec.id: spec for spec in self.wanted_specs()}
        leases.renew(wanted, host=self.host, instance=self.me.instance, now=wall, ttl=self.ttl)
        held, give = self._take_share(wanted, wall)
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
        for camera_id in give:
            given = self.slots.pop(camera_id, None)
            if given is not None:
                log.info("%s: handing it over to a less loaded host", given.spec.slug)
                self._stop_slot(given)
            self.handing_over.add(camera_id)
            self.share.handed(camera_id, self.clock())
            changed = True
        self.hand_over_stopped()
        unwanted_leases = set(self._own_lease_ids()) - set(wanted)
        if unwanted_leases:
            leases.release(unwanted_leases, host=self.host, instance=self.me.instance)
        for camera_id in held:
            if camera_id not in self.slots and camera_id not in self.handing_over:
                spec = wanted[camera_id]
                self.slots[camera_id] = Slot(spec=spec)
                # What a host that crashed left half-written has settled by then, even a
                # file its capture process wrote to for a moment after we took the camera
                # (reconcile skips files written within the last segment + margin).
                self._reconcile_at[camera_id] = self.clock() + 2 * (spec.segment_seconds + RECONCILE_MARGIN_S)
                changed = True
        return changed, True

    def reconcile_taken_over(self, now: float) -> bool:
        """Register the files a crashed holder of a camera left, once they have settled."""
        due = [camera_id for camera_id, at in self._reconcile_at.items() if now >= at]
        for camera_id in due:
            del self._reconcile_at[camera_id]
            slot = self.slots.get(camera_id)
            if slot is not None:
                self.reconcile(slot.spec)
        return bool(due)

    def collect_reports(self) -> bool:
        """Write down what the processes reported: statuses, closed segments, full disks."""
        handles = [slot.handle for slot in self.slots.values() if slot.handle is not None]
        handles += [handle for _, handle, _ in self.stopping]
        applied = 0
        for handle in handles:
            applied += self._drain(handle)
        return applied > 0

    def _drain(self, handle: WorkerHandle) -> int:
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
        fenced = self.fence.tripped(now)  # leases not vouched for: start nothing
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
            if slot.handle is None and not fenced and slot.restarts.due(now):
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
            if self.registered:
                leases.release_all(host=self.host, instance=self.me.instance)
                hosts.leave(self.me)
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
        return [camera_spec(camera) for camera in cameras]

    def _own_lease_ids(self) -> list[int]:

        own = CameraLease.objects.filter(host=self.host, instance=self.me.instance)
        return list(own.values_list("camera_id", flat=True))

    # --- internals ----------------------------------------------------------------
    def _gave_up(self, slot: Slot) -> None:
        message = f"The capture process {FLAP_MESSAGE} (or until the camera is changed)."
        log.error("%s: %s", slot.spec.slug, message)
        try:
            self.mark_error(slot.spec.id, message)
        except Exception:
            log.warning("%s: could not mark the camera in error", slot.spec.slug, exc_info=True)

    def _stop_slot(self, slot: Slot, *, kill_at: float | None = None) -> None:
        """Ask the process to stop without waiting for it: `_reap` collects it (and kills
        it at `kill_at` or after stop_timeout_s)."""
        if slot.handle is None:
            return
        slot.handle.request_stop()
        deadline = self.clock() + self.stop_timeout_s
        self.stopping.append((slot.spec.id, slot.handle, min(deadline, kill_at) if kill_at else deadline))
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


def _forget_metrics(handle: WorkerHandle) -> None:

    pid = getattr(handle, "pid", None)
    if isinstance(pid, int):
        metrics.process_died(pid)


def _mark_camera_error(camera_id: int, message: str) -> None:

    report_camera_status(camera_id, state=CameraState.ERROR, last_error=message)


def _reconcile_camera(spec: CameraSpec) -> None:
    """A capture process that died left its last file without a row: add it now (we hold
    the camera and its process is gone: nobody writes its files)."""

    reconcile_camera(spec.id)


def _reconcile_settled(spec: CameraSpec) -> None:
    """A camera taken over (at start-up too): rows for the files its last holder left,
    leaving alone the file our own process is writing (fresh)."""

    reconcile_camera(spec.id, settled_s=spec.segment_seconds + RECONCILE_MARGIN_S)
