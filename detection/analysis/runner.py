"""One analysis run, driven step by step.

Each `step()` takes a batch of sampled frames, asks the change gate which ones differ from
the last frame the detector saw, runs the detector on those in one call (an unchanged frame
keeps the previous detections: the same objects are there), tracks, draws the annotated
video, saves the objects whose tracks ended, and every so often saves the progress. It
returns False when the footage is done or the job was cancelled; `finish()` then stores
the remaining events, the report and the video.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from cameras.frames import Frame
from cameras.models import ZoneKind
from cameras.zones import AreaMap, areas
from detection.analysis.annotate import AnnotatedVideo, draw_detections
from detection.analysis.footage import FootageSampler, Sample, SegmentFile, expected_samples, overlap_seconds
from detection.analysis.gate import ChangeGate
from detection.analysis.prefetch import PrefetchedSamples
from detection.analysis.report import build_report, save_event, write_report_file
from detection.analysis.sample_tracker import SampleTracker, Track
from detection.backends.base import Detection, Detector
from detection.look import Look, crop_side, merge_duplicates, share_inside
from detection.models import AnalysisJob, JobStatus, ObjectEvent
from detection.motion import FULL_FRAME, Box, motion_crops

log = logging.getLogger("detection.analysis")


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1
    frames: int  # samples analysed so far
    expected: int  # about how many the range gives
    elapsed: float  # wall seconds
    eta: float | None  # wall seconds left, when it can be told

    def as_dict(self) -> dict:
        return {
            "percent": round(100 * self.fraction, 1),
            "frames": self.frames,
            "expected_frames": self.expected,
            "elapsed_seconds": round(self.elapsed, 1),
            "eta_seconds": None if self.eta is None else round(self.eta, 1),
        }


def output_folder(job: AnalysisJob) -> str:
    """Where a job's report and video go, relative to MEDIA_ROOT."""
    return f"analysis/{job.pk}"


class AnalysisRun:
    """Runs `job` over `segments` with `detector` (loaded or not). `annotate` overrides the
    job's own flag; `gate` is a ChangeGate or None to run the detector on every sample;
    `crop_to_motion` looks only at crops around what changed when the change is local (far
    objects are larger there); `clock` is monotonic seconds. Up to `decode_ahead` samples
    (default: two batches) are decoded in a thread while the detector runs; 0 decodes in the
    caller's thread, between detector calls. Cancellation is checked at most every
    `check_every` seconds, progress saved at most every `save_every` seconds (and
    `on_progress` called then)."""

    def __init__(
        self,
        job: AnalysisJob,
        *,
        detector: Detector,
        segments: list[SegmentFile],
        batch: int = 4,
        decode_ahead: int | None = None,
        annotate: bool | None = None,
        gate: ChangeGate | None = None,
        crop_to_motion: bool = False,
        refresh_seconds: float = 10.0,
        check_every: float = 0.5,
        save_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_progress: Callable[[Progress], None] | None = None,
    ):
        self.job = job
        self.detector = detector
        self.segments = segments
        self.batch = max(1, batch)
        # Two batches: the next one is ready when the detector finishes this one.
        self.decode_ahead = 2 * self.batch if decode_ahead is None else max(0, decode_ahead)
        self.annotate = job.annotate if annotate is None else annotate
        self.gate = gate
        self.crop_to_motion = crop_to_motion
        # The camera's masks, as live detection uses them.
        zones = areas(job.camera.zones.exclude(kind=ZoneKind.ZONE))
        self.object_masks = AreaMap(tuple(z for z in zones if z.kind == ZoneKind.OBJECT_MASK))
        if gate is not None:
            gate.ignore(z for z in zones if z.kind == ZoneKind.MOTION_MASK)
        self.refresh = timedelta(seconds=refresh_seconds)
        self.check_every, self.save_every = check_every, save_every
        self.clock = clock
        self.on_progress = on_progress
        self.tracker = SampleTracker(max_gap=timedelta(seconds=max(3.0, 3.0 / job.sample_fps)))
        self.events: list[ObjectEvent] = []
        self.frames = 0
        self.frames_detected = 0
        self.frames_cropped = 0  # of frames_detected, those looked at in crops only
        self.inference_seconds = 0.0
        self.status = JobStatus.RUNNING
        self._samples: Generator[Sample, None, None] | PrefetchedSamples | None = None
        self._sampler: FootageSampler | None = None
        self._video: AnnotatedVideo | None = None
        self._last: list[Detection] = []
        self._last_detected_at: datetime | None = None
        self._began: float | None = None  # these three are set by _start()
        self._checked: float | None = None
        self._saved: float | None = None

    # --- steps ------------------------------------------------------------------------
    def _start(self) -> None:
        self._sampler = FootageSampler(
            self.segments,
            start=self.job.start,
            end=self.job.end,
            fps=self.job.sample_fps,
            deblock=self.annotate,  # only people watching the video need it
        )
        self._samples = self._sampler.samples()
        if self.decode_ahead:
            self._samples = PrefetchedSamples(self._samples, ahead=self.decode_ahead)
        self.expected = expected_samples(self.segments, self.job.start, self.job.end, self.job.sample_fps)
        if self.annotate:
            path = Path(settings.MEDIA_ROOT) / output_folder(self.job) / "annotated.mp4"
            self._video = AnnotatedVideo(path, fps=self.job.sample_fps)
        self._began = self._checked = self._saved = self.clock()

    def step(self) -> bool:
        """Analyse the next batch of frames; False when there is nothing more to do."""
        if self._samples is None:
            self._start()
        samples = self._samples
        if samples is None:
            raise RuntimeError("the samples were not opened")  # _start() opens them
        if self._cancelled():
            self.status = JobStatus.CANCELLED
            return False
        batch = [sample for _, sample in zip(range(self.batch), samples, strict=False)]
        if not batch:
            self.status = JobStatus.DONE
            return False
        self._analyse(batch)
        self._save_progress()
        return True

    def _analyse(self, batch: list[Sample]) -> None:
        # Within a batch, frames are compared with the last frame sent to the detector, or
        # the last one picked for this batch.
        looks: list[Look | None] = []
        last_at = self._last_detected_at
        for sample in batch:
            regions = self._regions_to_look_at(sample, stale=last_at is None or sample.at - last_at >= self.refresh)
            if regions is not None:
                last_at = sample.at
                if self.gate is not None:
                    self.gate.keep(sample.image)
            looks.append(None if regions is None else Look(self._frame(sample), regions))
        images = [image for look in looks if look is not None for image in look.images()]
        began = time.perf_counter()
        found = iter(self.detector.detect(images) if images else [])
        self.inference_seconds += time.perf_counter() - began
        self.frames_detected += sum(look is not None for look in looks)
        self.frames_cropped += sum(look is not None and not look.whole for look in looks)
        for sample, look in zip(batch, looks, strict=True):
            if look is not None:
                seen = self._unmasked(look.to_frame([next(found) for _ in look.regions]))
                self._last = self._detections_after(look, seen)
                self._last_detected_at = sample.at
            tracks = self.tracker.update(sample.at, self._last, sample.image)
            if self._video is not None:
                image = draw_detections(
                    sample.image.copy(), self._last, [t.track_id for t in tracks], timezone.localtime(sample.at)
                )
                self._video.add(image)
            self.frames += 1
            self._save_events(self.tracker.pop_ended(sample.at))

    def _regions_to_look_at(self, sample: Sample, *, stale: bool) -> tuple[Box, ...] | None:
        """The parts of a sample to run the detector on: the whole frame, crops around what
        changed (with crop_to_motion), or None when nothing changed since the detector's last
        look (its detections still hold)."""
        whole = (FULL_FRAME,)
        if self.gate is None or stale:
            return whole
        change = self.gate.check(sample.image)
        if not change.moving:
            return None
        if not self.crop_to_motion:
            return whole
        height, width = sample.image.shape[:2]
        return motion_crops(change, width, height, side=crop_side(self.detector))

    def _detections_after(self, look: Look, found: list[Detection]) -> list[Detection]:
        """The frame's detections once the detector looked at `look`: what it found, and
        where it looked only at crops, the previous detections not mostly inside them (nothing
        changed there; a large object that a crop only cuts into cannot be judged from it)."""
        if look.whole:
            return found
        kept = [d for d in self._last if not any(share_inside(d.box, region) >= 0.5 for region in look.regions)]
        return merge_duplicates(kept + found)

    def _unmasked(self, found: list[Detection]) -> list[Detection]:
        """What the detector found, less what stands in an object mask."""
        if not self.object_masks.areas or not found:
            return found
        rows = self.object_masks.inside([d.box for d in found])
        return [d for d, row in zip(found, rows, strict=True) if not any(row)]

    def _frame(self, sample: Sample) -> Frame:
        height, width = sample.image.shape[:2]
        return Frame(self.job.camera_id, sample.at, sample.image, width, height, self.job.camera.rotation)

    def _save_events(self, tracks: list[Track]) -> None:
        for track in sorted(tracks, key=lambda t: t.first_seen):
            self.events.append(save_event(self.job, track))

    # --- progress and cancellation ----------------------------------------------------
    def progress(self) -> Progress:
        fraction = min(0.99, self.frames / self.expected) if self.expected else 0.0
        elapsed = self.clock() - _started(self._began)
        eta = elapsed / fraction * (1 - fraction) if fraction > 0.01 else None
        return Progress(fraction, self.frames, self.expected, elapsed, eta)

    def _cancelled(self) -> bool:
        now = self.clock()
        if now - _started(self._checked) < self.check_every:
            return False
        self._checked = now
        status = AnalysisJob.objects.filter(pk=self.job.pk).values_list("status", flat=True).first()
        return status != JobStatus.RUNNING

    def _save_progress(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - _started(self._saved) < self.save_every:
            return
        self._saved = now
        progress = self.progress()
        # Conditional: a cancelled job keeps its status; the next step sees it.
        AnalysisJob.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            progress=progress.fraction, report={"progress": progress.as_dict()}, heartbeat_at=timezone.now()
        )
        if self.on_progress is not None:
            self.on_progress(progress)

    # --- the end ----------------------------------------------------------------------
    def run(self) -> AnalysisJob:
        while self.step():
            pass
        return self.finish()

    def finish(self) -> AnalysisJob:
        """Store the objects still tracked, the video and the report; mark the job done
        (a cancelled job stays cancelled but keeps what was found before it stopped)."""
        if self._samples is not None:
            self._samples.close()  # closes the file being read, if any
        self._save_events(self.tracker.pop_all())
        video = self._video.close() if self._video is not None else None
        elapsed = self.clock() - _started(self._began)
        footage = sum(overlap_seconds(s, self.job.start, self.job.end) for s in self.segments)
        stats: dict[str, Any] = {
            "frames_analysed": self.frames,
            "frames_detected": self.frames_detected,
            "footage_seconds": round(footage, 1),
            "duration_seconds": round(elapsed, 2),
            "realtime_factor": round(footage / elapsed, 1) if elapsed > 0 and self.status == JobStatus.DONE else None,
            "inference_ms_per_frame": round(1000 * self.inference_seconds / self.frames_detected, 1)
            if self.frames_detected
            else None,
            "skipped_files": list(self._sampler.skipped) if self._sampler else [],
        }
        folder = output_folder(self.job)
        relative_video = f"{folder}/annotated.mp4" if video is not None else ""
        stats["annotated_video"] = relative_video or None
        stats["report_file"] = f"{folder}/report.json"
        row, full = build_report(
            self.job, self.events, stats=stats, model=self.detector.describe(), status=str(self.status)
        )
        write_report_file(Path(settings.MEDIA_ROOT) / folder / "report.json", full)
        now = timezone.now()
        AnalysisJob.objects.filter(pk=self.job.pk).update(report=row, annotated_video=relative_video)
        if self.status == JobStatus.DONE and self.frames == 0 and stats["skipped_files"]:
            # Every file was unreadable: saying "done, nothing found" would be a lie.
            self.status = JobStatus.FAILED
            AnalysisJob.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED,
                error=f"None of the {len(stats['skipped_files'])} recordings in this range could be read.",
                finished_at=now,
            )
        elif self.status == JobStatus.DONE:
            AnalysisJob.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.DONE, progress=1.0, finished_at=now
            )
        if self.on_progress is not None and self.status == JobStatus.DONE:
            self.on_progress(Progress(1.0, self.frames, self.frames, elapsed, 0.0))
        self.job.refresh_from_db()
        return self.job

    def abandon(self) -> None:
        """After an error: stop decoding and drop the half-written video."""
        if self._samples is not None:
            self._samples.close()
        if self._video is not None:
            self._video.abandon()


def _started(moment: float | None) -> float:
    """A clock reading that _start() took (step() starts the run before anything reads them)."""
    if moment is None:
        raise RuntimeError("the analysis has not started")
    return moment
