"""The live inference stage: frames from every camera in, boxes, tracks and events out.

One stage runs per inference device, in its own process (``pipeline.processes.inference.main``),
fed by all capture processes through one bounded multiprocessing queue. Each ``step()``:

1. drains the queue; each frame, as it arrives, goes through its camera's motion gate (a
   camera with AI off is skipped; a static scene costs no inference; objects already
   tracked are looked at again every ``recheck_s`` even when still, so a person standing
   still keeps its track);
2. frames worth a look wait in small per-camera queues that keep each camera's newest
   frames (older ones are dropped and counted: a slow detector shows the present, late);
3. builds a batch of up to ``batch_size`` of them round-robin across cameras, waiting at
   most ``batch_ms`` for it to fill, so a busy camera cannot starve a quiet one;
4. runs the detector once on the batch, then per frame: the camera's classes and
   confidence, the tracker, the events (detection.track_events), and the overlay message.

Camera AI settings are re-read every ``refresh_s``: admin changes apply without a restart.

A new stage (the inference process restarted) first loads each camera's live events that
may still be going on (detection.track_events: a person still in view continues the event the
previous process opened instead of starting a second one).
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.utils import timezone

from cameras.frames import Frame
from core import metrics as prometheus
from detection.backends import Detection, Detector
from detection.backends.byte_tracker import ByteTracker
from detection.look import Look, crop_side, fits, inside
from detection.motion import FULL_FRAME, Box, MotionGate, motion_crops
from detection.overlay import detections_payload
from detection.selectors import CameraAI
from detection.status import StageMetrics
from detection.track_events import EventStore, OpenEvent, TrackEvents

log = logging.getLogger("detection.stage")


class DetectionPublisher(Protocol):
    """Where the overlay messages go (the live relay's channel, passed in by the process)."""

    def publish_detections(self, slug: str, payload: dict[str, Any]) -> None: ...


@dataclass
class _Camera:
    """What the stage keeps per camera (owned by the stage, never shared)."""

    ai: CameraAI
    pending: deque[Look] = field(default_factory=deque)
    gate: MotionGate | None = None
    tracker: ByteTracker | None = None
    events: TrackEvents | None = None
    whole_at: float | None = None  # the last look at the whole frame (not crops)
    # The last look found a box the tracker has not confirmed yet (it needs a second
    # sighting): the next frame is looked at even if nothing moves.
    confirming: bool = False
    overlay: list[dict[str, Any]] = field(default_factory=list)  # the objects the live page shows now
    # The newest frame handled: its capture time and the wall time it was handled, so
    # events expire on the frames' clock, and on the wall clock once frames stop.
    frame_at: datetime | None = None
    handled_at: datetime | None = None


class InferenceStage:
    """Step-driven; everything it talks to is passed in.

    frames: a queue with ``get(timeout=)`` / ``get_nowait()`` raising queue.Empty
    (multiprocessing.Queue or queue.Queue) carrying cameras.frames.Frame.
    camera_settings: returns {camera id: CameraAI}; called every ``refresh_s``.
    store: where events are written (detection.services.ObjectEventStore).
    publisher: a DetectionPublisher (the live relay's Redis channel, pipeline.live.channel),
    or None for no overlays (offline runs, tests).
    """

    def __init__(
        self,
        *,
        frames: Any,  # see the class docstring: a multiprocessing or in-process queue
        detector: Detector,
        camera_settings: Callable[[], dict[int, CameraAI]],
        store: EventStore,
        publisher: DetectionPublisher | None = None,
        batch_size: int = 4,
        batch_ms: float = 50,
        lost_after: timedelta = timedelta(seconds=5),
        update_every: timedelta = timedelta(seconds=5),
        recheck_s: float = 2.0,
        refresh_s: float = 3.0,
        pending_per_camera: int | None = None,
        crop_to_motion: bool = False,
        gate_factory: Callable[[], MotionGate] = MotionGate,
        tracker_factory: Callable[[], ByteTracker] = ByteTracker,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ):
        self.frames = frames
        self.detector = detector
        self.camera_settings = camera_settings
        self.store = store
        self.publisher = publisher
        self.batch_size = max(1, int(batch_size))
        self.batch_s = max(0.0, batch_ms / 1000)
        self.lost_after = lost_after
        self.update_every = update_every
        # Still objects must be seen again before their events would expire.
        self.recheck_s = min(recheck_s, lost_after.total_seconds() / 2)
        self.refresh_s = refresh_s
        self.pending_per_camera = pending_per_camera or self.batch_size
        # Send only the moving part of a frame while nothing is tracked on that camera: a
        # far-away newcomer is then larger in the detector's input. With tracks, whole
        # frames, so still objects elsewhere stay in view of the tracker.
        self.crop_to_motion = crop_to_motion
        self.gate_factory = gate_factory
        self.tracker_factory = tracker_factory
        self.clock = clock
        self.now = now
        self.metrics = StageMetrics()
        self.cameras: dict[int, _Camera] = {}
        self._order: deque[int] = deque()  # round-robin order of camera ids
        self._resume_loaded: set[int] = set()  # cameras whose open events this stage has taken over
        self._refreshed_at: float | None = None

    # --- settings -------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Re-read the cameras' AI settings (at most every ``refresh_s``)."""
        now = self.clock()
        if self._refreshed_at is not None:
            # Forced (a frame from a camera not known yet): still at most twice a second,
            # so frames of a deleted camera do not cost a query each.
            if now - self._refreshed_at < (0.5 if force else self.refresh_s):
                return
        self._refreshed_at = now
        try:
            latest = self.camera_settings()
        except Exception:
            # The database is away for a moment: keep detecting with the settings we have.
            self.metrics.errors += 1
            log.warning("could not re-read the cameras' AI settings", exc_info=True)
            return
        for camera_id in list(self.cameras):
            if camera_id not in latest:
                self._forget(camera_id)
        for camera_id, ai in latest.items():
            state = self.cameras.get(camera_id)
            if state is None:
                state = self.cameras[camera_id] = _Camera(ai, deque(maxlen=self.pending_per_camera))
                self._order.append(camera_id)
                if ai.enabled:  # now, so events nobody takes up are closed even if no frame comes
                    state.events = self._new_events(ai)
                continue
            if not ai.enabled and state.ai.enabled:
                self._stop_tracking(state)
            if not ai.motion_gating:
                state.gate = None
            state.ai = ai
            if state.events is not None:
                self._configure(state.events, ai)
            if state.gate is not None:
                state.gate.ignore(ai.motion_masks)

    def _forget(self, camera_id: int) -> None:
        state = self.cameras.pop(camera_id)
        self._stop_tracking(state)
        self.metrics.frames_dropped += len(state.pending)
        self._order.remove(camera_id)

    def _stop_tracking(self, state: _Camera) -> None:
        if state.events is not None:
            state.events.close_all()
        state.gate = state.tracker = state.events = None
        state.whole_at = None

    # --- the loop ---------------------------------------------------------------------
    def step(self) -> bool:
        """One batch at most. True when a frame was taken (more may be waiting)."""
        self.refresh()
        taken = self.metrics.frames_in
        batch = self._collect()
        if batch:
            try:
                self._process(batch)
            except Exception:
                # One bad batch (a database hiccup, a broken frame) must not stop live
                # detection for every camera; it is logged and counted.
                self.metrics.errors += 1
                log.exception("inference stage: a batch of %d frames failed", len(batch))
        self._expire_idle()
        return self.metrics.frames_in != taken

    def _take(self, timeout: float | None) -> bool:
        try:
            frame = self.frames.get(timeout=timeout) if timeout else self.frames.get_nowait()
        except queue.Empty:
            return False
        self.metrics.frames_in += 1
        state = self.cameras.get(frame.camera_id)
        if state is None:
            self.refresh(force=True)  # a camera added since the last refresh
            state = self.cameras.get(frame.camera_id)
        if state is None or not state.ai.enabled:
            self.metrics.frames_skipped += 1
            return True
        # Gate on arrival: every frame teaches the camera's background, in order, and only
        # frames worth a look take a place in the batch.
        state.frame_at, state.handled_at = frame.captured_at, self.now()
        regions = self._regions_to_look_at(state, frame)
        if regions is None:
            self.metrics.frames_gated += 1
            self._gated_overlay(state, frame)
            return True
        if len(state.pending) == state.pending.maxlen:
            self.metrics.frames_dropped += 1
        state.pending.append(Look(frame, regions))
        return True

    def _pending(self) -> int:
        return sum(len(s.pending) for s in self.cameras.values())

    def _collect(self) -> list[Look]:
        while self._take(None):  # whatever is already there
            pass
        if self._pending() == 0 and not self._take(self.batch_s or 0.05):
            self._depth()
            return []
        deadline = self.clock() + self.batch_s
        while self._pending() < self.batch_size:
            remaining = deadline - self.clock()
            if remaining <= 0 or not self._take(remaining):
                break
        self._depth()
        return self._round_robin()

    def _depth(self) -> None:
        try:
            self.metrics.queue_depth = self.frames.qsize()
        except (NotImplementedError, AttributeError):  # macOS multiprocessing queues
            return
        prometheus.queue_depth("inference", self.metrics.queue_depth)

    def _round_robin(self) -> list[Look]:
        batch: list[Look] = []
        while len(batch) < self.batch_size and self._pending():
            camera_id = self._order[0]
            self._order.rotate(-1)
            state = self.cameras[camera_id]
            if state.pending:
                batch.append(state.pending.popleft())
        return batch

    def _process(self, batch: list[Look]) -> None:
        # A camera switched off or removed while its frames waited: drop them.
        to_detect = [
            look
            for look in batch
            if look.frame.camera_id in self.cameras and self.cameras[look.frame.camera_id].ai.enabled
        ]
        self.metrics.frames_skipped += len(batch) - len(to_detect)
        if not to_detect:
            return
        started = time.perf_counter()
        images = [look.images() for look in to_detect]
        flat = iter(self.detector.detect([image for per_look in images for image in per_look]))
        results = [[next(flat) for _ in per_look] for per_look in images]
        per_frame = (time.perf_counter() - started) * 1000 / len(to_detect)
        m = self.metrics
        m.batches += 1
        m.frames_detected += len(to_detect)
        m.inference_ms = round(per_frame, 2)
        m.inference_ms_avg = round(
            per_frame if m.inference_ms_avg is None else 0.9 * m.inference_ms_avg + 0.1 * per_frame, 2
        )
        prometheus.inference(per_frame * len(to_detect), len(to_detect))
        m.crops += sum(len(look.regions) for look in to_detect if not look.whole)
        for look, found in zip(to_detect, results, strict=True):
            state = self.cameras[look.frame.camera_id]
            if look.whole:
                state.whole_at = self.clock()
            self._after_detect(state, look, look.to_frame(found), per_frame)

    def _regions_to_look_at(self, state: _Camera, frame: Frame) -> tuple[Box, ...] | None:
        """The parts of the frame worth a detector call (the whole frame, or crops around
        what moves), or None (nothing to see)."""
        whole = (FULL_FRAME,)
        if not state.ai.motion_gating:
            return whole
        if state.gate is None:
            state.gate = self.gate_factory()
            state.gate.ignore(state.ai.motion_masks)
        motion = state.gate.check(frame.image)
        # Events a previous process left going count as tracks: a person standing still
        # must be looked at to be recognised as still there. Crops may leave a still object
        # out: the whole frame is looked at again at least every recheck_s while tracks live.
        has_tracks = state.events is not None and bool(state.events.active or state.events.resumable)
        refresh_due = has_tracks and (state.whole_at is None or self.clock() - state.whole_at >= self.recheck_s)
        if motion.moving or state.confirming:
            if self.crop_to_motion and not refresh_due:
                height, width = frame.image.shape[:2]
                return motion_crops(motion, width, height, side=crop_side(self.detector))
            return whole
        return whole if refresh_due else None

    def _after_detect(self, state: _Camera, look: Look, found: list[Detection], inference_ms: float) -> None:
        ai, frame = state.ai, look.frame
        height, width = frame.image.shape[:2]
        wanted = ai.unmasked([d for d in found if d.label in ai.classes and fits(ai, d, width, height, frame.rotation)])
        prometheus.frames_out(ai.slug)
        for d in wanted:
            prometheus.detection(ai.slug, d.label)
        if state.tracker is None:
            state.tracker = self.tracker_factory()
        if state.events is None:
            state.events = self._new_events(ai)
        tracked = state.tracker.update(wanted, width, height)
        new_track_score = getattr(state.tracker, "new", 0.0)
        state.events.observe(frame.captured_at, tracked, frame.image)
        # Look at the next frame even if nothing moves while a box waits for its track or a
        # candidate for the frames that decide whether it is real.
        state.confirming = len(tracked) < sum(d.confidence >= new_track_score for d in wanted) or any(
            c.frames < state.events.rule_for(c.label)[1] for c in state.events.candidates.values()
        )
        tracked_boxes = {o.box for o in tracked}
        # Real objects are drawn; candidates go along marked, for the live page's debug view.
        objects = [
            o.as_dict() if state.events.is_real(o.track_id) else {**o.as_dict(), "candidate": True} for o in tracked
        ]
        objects += [{**d.as_dict(), "track_id": None, "candidate": True} for d in wanted if d.box not in tracked_boxes]
        if not look.whole:
            # Real objects outside the crops were not looked at: they are still there.
            seen = {o.track_id for o in tracked}
            objects += [
                o
                for o in state.overlay
                if o.get("track_id") not in seen
                and state.events.is_real(o.get("track_id"))
                and not any(inside(o["box"], region) for region in look.regions)
            ]
        self._publish(state, frame, objects, inference_ms)

    def _new_events(self, ai: CameraAI) -> TrackEvents:
        """A camera's TrackEvents; the first one of this stage takes over the events a
        previous process left going."""
        resumable: Sequence[OpenEvent] = []
        if ai.id not in self._resume_loaded:
            self._resume_loaded.add(ai.id)
            since = self.now() - (self.lost_after + self.update_every)
            try:
                resumable = self.store.open_events(ai.id, since)
            except Exception:  # the database is away: new events then, as before
                self.metrics.errors += 1
                log.warning("camera %s: could not load its open events", ai.slug, exc_info=True)
        events = TrackEvents(
            ai.id,
            self.store,
            lost_after=self.lost_after,
            update_every=self.update_every,
            threshold=ai.threshold,
            min_frames=ai.min_frames,
            resumable=resumable,
        )
        self._configure(events, ai)
        return events

    @staticmethod
    def _configure(events: TrackEvents, ai: CameraAI) -> None:
        """The camera's settings that a running TrackEvents follows."""
        events.threshold, events.min_frames = ai.threshold, ai.min_frames
        events.per_label = {f.label: f for f in ai.filters}
        events.zone_map = ai.zone_map

    def _gated_overlay(self, state: _Camera, frame: Frame) -> None:
        """Nothing moved. Objects still tracked are still there: keep their boxes in step
        with the video; otherwise clear the boxes once, not every frame."""
        has_tracks = state.events is not None and bool(state.events.active)
        if has_tracks:
            self._publish(state, frame, state.overlay, None)
        elif state.overlay:
            self._publish(state, frame, [], None)

    def _publish(self, state: _Camera, frame: Frame, objects: list[dict[str, Any]], inference_ms: float | None) -> None:
        state.overlay = objects
        if self.publisher is None:
            return

        height, width = frame.image.shape[:2]
        payload = detections_payload(
            captured_at=frame.captured_at.timestamp(),
            objects=objects,
            inference_ms=None if inference_ms is None else round(inference_ms, 1),
            width=width,
            height=height,
        )
        try:
            self.publisher.publish_detections(state.ai.slug, payload)
        except Exception:  # Redis down: the overlay misses a frame; events are safe in the database
            self.metrics.errors += 1
            log.warning("camera %s: could not publish detections", state.ai.slug, exc_info=True)

    def _expire_idle(self) -> None:
        wall = self.now()
        for state in self.cameras.values():
            events = state.events
            if events is None or not (events.active or events.resumable):
                continue
            # On the frames' clock; on the wall clock before the first frame.
            at = (
                wall
                if state.frame_at is None or state.handled_at is None  # set together
                else state.frame_at + (wall - state.handled_at)
            )
            try:
                events.expire(at)
            except Exception:
                self.metrics.errors += 1
                log.exception("camera %s: could not close events", state.ai.slug)

    def close(self) -> None:
        """Close every open event (the process is stopping)."""
        for state in self.cameras.values():
            self._stop_tracking(state)
