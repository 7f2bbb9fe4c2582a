"""Entry point of the inference process, started with "spawn" by runworkers (a fresh
interpreter). Nothing here imports Django models before ``django.setup()``: the module is
imported by the child to unpickle its target."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.redis_client import redis_client

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from detection.selectors import CameraAI

log = logging.getLogger("detection.stage")


def detector_options_from_settings(settings: Any) -> tuple[str, dict[str, Any]]:
    """The backend name and create_detector() options that settings (DETECTOR_*) ask for.
    `settings`: django.conf.settings, or a stand-in with the DETECTOR_* names (tests)."""
    from core.model_scores import score_defaults
    from detection.backends import input_size_options

    confidence = settings.DETECTOR_CONFIDENCE
    if confidence is None:
        confidence = score_defaults(settings.DETECTOR_BACKEND, settings.DETECTOR_MODEL, settings.MODELS_DIR).min_score
    options: dict[str, Any] = {
        "device": settings.DETECTOR_DEVICE,
        "confidence": confidence,
        "max_batch": settings.DETECTOR_BATCH,
        "models_dir": settings.MODELS_DIR,
    }
    if settings.DETECTOR_MODEL:
        options["model"] = settings.DETECTOR_MODEL
    options.update(input_size_options(settings.DETECTOR_BACKEND, settings.DETECTOR_INPUT_SIZE))
    if settings.DETECTOR_BACKEND == "onnx":
        options.update(
            tensorrt=settings.DETECTOR_TENSORRT,
            threads=settings.DETECTOR_THREADS,
            precision=settings.DETECTOR_PRECISION,
        )
    return settings.DETECTOR_BACKEND, options


def main(
    frames_queue: Any,  # a multiprocessing Queue of cameras.frames.Frame
    stop: Event,
    camera_ids: list[int] | None = None,
    metrics_every_s: float = 60.0,
    status_every_s: float = 5.0,
) -> None:
    """An inference process (started with "spawn" by runworkers): detect on the frames of
    ``frames_queue`` (cameras.frames.Frame, put there by the capture processes'
    ProcessQueueSink) until ``stop`` (a multiprocessing Event) is set, SIGTERM, or the
    parent dies. ``camera_ids``: the cameras this host holds (None: every camera).

    The detector comes from the DETECTOR_* settings; a model that cannot be loaded ends
    the process with one error line (the supervisor's restart policy applies)."""
    import os
    import signal

    import django

    os.environ["AINVR_WORKER_PROCESS"] = "1"
    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from cameras.models import Camera
    from core.db import drop_stale_connections, keep_connection
    from detection.backends import DetectorError, create_detector
    from detection.selectors import camera_ai_settings
    from detection.services import ObjectEventStore, close_stale_live_events
    from detection.stage import InferenceStage

    keep_connection()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    from functools import partial

    from detection.backends.byte_tracker import ByteTracker
    from detection.motion import FAR_GATE, MotionGate

    backend, options = detector_options_from_settings(settings)
    detector = create_detector(backend, **options)
    try:
        detector.load()
    except DetectorError as e:
        log.error("inference process cannot start: %s", e)
        raise SystemExit(2) from None
    log.info("inference process ready: %s", detector.describe())

    lost_after = timedelta(seconds=settings.DETECTOR_TRACK_LOST_SECONDS)
    update_every = timedelta(seconds=settings.DETECTOR_EVENT_UPDATE_SECONDS)
    # Events a killed predecessor left open lately are the stage's to continue (a person
    # still in view stays one event); older ones end at their start, as they always did.
    closed = close_stale_live_events(camera_ids, started_before=timezone.now() - (lost_after + update_every))
    if closed:
        log.info("closed %d object event(s) left open by a previous inference process", closed)

    cameras: dict[int, Camera] = {}

    def load_settings() -> dict[int, CameraAI]:
        drop_stale_connections()  # a long-lived process: reconnect if the database went away
        latest = camera_ai_settings(camera_ids)
        # The rows the event writes refer to (re-read: a camera's slug can change).
        cameras.clear()
        cameras.update({c.pk: c for c in Camera.objects.filter(pk__in=list(latest))})
        return latest

    publisher = None
    if settings.REDIS_URL:
        from pipeline.live.channel import RedisLiveChannel

        publisher = RedisLiveChannel(settings.REDIS_URL)
    stage = InferenceStage(
        frames=frames_queue,
        detector=detector,
        camera_settings=load_settings,
        store=ObjectEventStore(cameras),
        publisher=publisher,
        batch_size=settings.DETECTOR_BATCH,
        batch_ms=settings.DETECTOR_BATCH_MS,
        lost_after=lost_after,
        update_every=update_every,
        crop_to_motion=settings.DETECTOR_MOTION_CROP,
        # Crops are for far objects, which the default gate (160 px wide) does not see move.
        gate_factory=partial(MotionGate, **FAR_GATE) if settings.DETECTOR_MOTION_CROP else MotionGate,
        # A box at the detector's floor may start a track: it is a candidate until its
        # scores say it is real (detection.track_events).
        tracker_factory=partial(ByteTracker, high=options["confidence"], new=options["confidence"]),
    )
    status: Callable[[], None] | None = None
    if settings.REDIS_URL:
        import socket

        from detection.status import publish_detector_status

        client = redis_client(settings.REDIS_URL)
        host, pid = socket.gethostname(), os.getpid()

        def status() -> None:
            try:
                publish_detector_status(
                    client,
                    host=host,
                    pid=pid,
                    detector=detector.describe(),
                    cameras=sorted(state.ai.slug for state in stage.cameras.values() if state.ai.enabled),
                    metrics=stage.metrics.as_dict(),
                )
            except Exception:  # Redis down: the status is late, detection goes on
                log.warning("could not publish the detector status", exc_info=True)

    parent = os.getppid()
    next_report = time.monotonic() + metrics_every_s
    next_status = time.monotonic()
    try:
        while not stop.is_set() and os.getppid() == parent:
            stage.step()
            now = time.monotonic()
            if status is not None and now >= next_status:
                next_status = now + status_every_s
                status()
            if now >= next_report:
                next_report = now + metrics_every_s
                log.info("inference: %s", stage.metrics.as_dict())
    finally:
        stage.close()
        drop_stale_connections()
