"""Offline analysis over real recorded segments with the tiny YOLO: events, report, video,
progress and cancellation."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.utils import timezone

from detection.analysis.runner import AnalysisRun
from detection.analysis.services import cancel_analysis_job, recorded_segments, run_claimed_job, start_analysis_here
from detection.models import JobStatus, ObjectEvent, Source
from tests.detection.tiny_yolo import *  # noqa: F403  (fixtures)
from tests.detection.tiny_yolo import T0

pytestmark = pytest.mark.django_db


def analyse(camera, detector, *, seconds=8, **options):
    options = {"classes": ["person", "car"], "confidence": 0.5, "sample_fps": 5, "annotate": True, **options}
    job = start_analysis_here(camera=camera, start=T0, end=T0 + timedelta(seconds=seconds), **options)
    return run_claimed_job(job, detector=detector)


def test_the_recording_is_three_segments(recorded_scene):
    assert [round(s.duration, 1) for s in recorded_scene] == [3.0, 3.0, 2.0]


def test_each_object_is_one_event_with_its_times_and_snapshot(camera, recorded_scene, tiny_detector):
    job = analyse(camera, tiny_detector())

    assert job.status == JobStatus.DONE and job.error == ""
    assert job.started_at <= job.finished_at and job.progress == 1.0
    events = list(ObjectEvent.objects.filter(job=job).order_by("start"))
    assert [e.label for e in events] == ["person", "car"]
    person, car = events
    # The person is drawn from 0.5 s to 3.5 s, the car from 4.5 s to 7.5 s; samples every 0.2 s.
    assert abs((person.start - T0).total_seconds() - 0.6) <= 0.3
    assert abs((person.end - T0).total_seconds() - 3.4) <= 0.3
    assert abs((car.start - T0).total_seconds() - 4.6) <= 0.3
    assert abs((car.end - T0).total_seconds() - 7.4) <= 0.3
    for event in events:
        assert event.source == Source.ANALYSIS and event.camera == camera
        assert event.confidence >= 0.5
        assert event.snapshot and Path(event.snapshot.path).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert person.track_id != car.track_id


def test_the_report_counts_per_class_and_hour_and_lists_the_events(camera, recorded_scene, tiny_detector, settings):
    job = analyse(camera, tiny_detector())

    report = job.report
    assert report["status"] == "done"
    assert report["counts"] == {"car": 1, "person": 1}
    hour = timezone.localtime(T0).replace(minute=0, second=0).isoformat()  # in the server's time zone
    assert report["per_hour"] == {hour: {"car": 1, "person": 1}}
    assert report["frames_analysed"] == 40  # 8 s at 5 samples a second
    assert report["footage_seconds"] == 8.0
    assert report["model"] == "ultralytics tiny-shapes-yolov8n.pt on cpu"
    assert [e["label"] for e in report["events"]] == ["person", "car"]
    assert {e["id"] for e in report["events"]} == set(ObjectEvent.objects.filter(job=job).values_list("pk", flat=True))
    saved = json.loads((Path(settings.MEDIA_ROOT) / report["report_file"]).read_text())
    assert saved == report


def test_the_annotated_video_is_a_playable_h264_mp4_of_the_samples(camera, recorded_scene, tiny_detector, settings):
    job = analyse(camera, tiny_detector())

    assert job.annotated_video == f"analysis/{job.pk}/annotated.mp4"
    with av.open(str(Path(settings.MEDIA_ROOT) / job.annotated_video)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (320, 240)
        assert abs(float(stream.duration * stream.time_base) - 8.0) < 0.3
    assert len(frames) == 40
    # Boxes are drawn: a frame with the person differs from the raw recording around it.
    with av.open(str(Path(settings.RECORDINGS_DIR) / recorded_scene[0].path)) as raw:
        raw_frames = [f.to_ndarray(format="bgr24") for f in raw.decode(video=0)]
    drawn, plain = frames[10].astype(int), raw_frames[20].astype(int)  # both at 2.0 s
    assert abs(drawn - plain).max() > 100


def test_no_annotation_means_no_video(camera, recorded_scene, tiny_detector):
    job = analyse(camera, tiny_detector(), annotate=False)

    assert job.status == JobStatus.DONE and job.annotated_video == ""
    assert job.report["annotated_video"] is None


def test_only_the_classes_asked_for_become_events(camera, recorded_scene, tiny_detector):
    job = analyse(camera, tiny_detector(classes=["car"]), classes=["car"])

    assert list(ObjectEvent.objects.filter(job=job).values_list("label", flat=True)) == ["car"]
    assert job.report["counts"] == {"car": 1}


def test_only_the_range_asked_for_is_analysed(camera, recorded_scene, tiny_detector):
    job = start_analysis_here(
        camera=camera, start=T0 + timedelta(seconds=4), end=T0 + timedelta(seconds=8), classes=["person", "car"],
        confidence=0.5, sample_fps=2, annotate=False,
    )  # fmt: skip
    job = run_claimed_job(job, detector=tiny_detector())

    assert job.report["frames_analysed"] == 8
    assert job.report["counts"] == {"car": 1}


def test_progress_is_saved_as_it_goes_and_a_cancel_stops_it_between_frames(camera, recorded_scene, tiny_detector):
    job = start_analysis_here(
        camera=camera, start=T0, end=T0 + timedelta(seconds=8), classes=["person", "car"], confidence=0.5,
        sample_fps=5, annotate=True,
    )  # fmt: skip
    claimed_heartbeat = job.heartbeat_at
    seen = []
    run = AnalysisRun(
        job,
        detector=tiny_detector(),
        segments=recorded_segments(camera, job.start, job.end),
        batch=2,
        check_every=0,
        save_every=0,
        on_progress=seen.append,
    )
    for _ in range(10):  # 20 samples, up to 3.8 s: the person has come and gone, no car yet
        assert run.step()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.progress == 0.5 and job.report["progress"]["frames"] == 20
    # Each save says the process is alive (fail_stalled_jobs reads it).
    assert claimed_heartbeat is not None and job.heartbeat_at > claimed_heartbeat
    assert [p.frames for p in seen] == list(range(2, 22, 2))

    cancel_analysis_job(job)
    assert run.step() is False
    job = run.finish()

    assert job.status == JobStatus.CANCELLED and run.frames == 20
    assert not run._samples._thread.is_alive()  # the decoder thread stopped with the run
    # What was found before the cancel is kept: the person, and a report saying it stopped.
    assert list(ObjectEvent.objects.filter(job=job).values_list("label", flat=True)) == ["person"]
    assert job.report["status"] == "cancelled" and job.report["frames_analysed"] == 20


def test_decoding_ahead_in_a_thread_finds_what_decoding_in_turn_finds(camera, recorded_scene, tiny_detector):
    from detection.analysis.gate import ChangeGate

    found = []
    for ahead in (0, 3):
        job = start_analysis_here(
            camera=camera, start=T0, end=T0 + timedelta(seconds=8), classes=["person", "car"], confidence=0.5,
            sample_fps=5, annotate=False,
        )  # fmt: skip
        segments = recorded_segments(camera, job.start, job.end)
        run = AnalysisRun(
            job, detector=tiny_detector(), segments=segments, batch=2, decode_ahead=ahead, gate=ChangeGate()
        )
        job = run.run()
        events = ObjectEvent.objects.filter(job=job).order_by("start").values_list("label", "start", "end")
        found.append((job.report["counts"], job.report["frames_analysed"], run.frames_detected, list(events)))

    assert found[0] == found[1]
    assert found[0][:2] == ({"car": 1, "person": 1}, 40)


def test_a_job_cancelled_before_it_starts_is_never_run(camera, recorded_scene, tiny_weights, settings):
    from detection.analysis.services import create_analysis_job, run_analysis_job

    job = create_analysis_job(requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8))
    cancel_analysis_job(job)

    assert run_analysis_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.started_at is None


def test_a_failure_is_kept_on_the_job(camera, recorded_scene, tmp_path):
    from detection.analysis.services import claim_job, create_analysis_job
    from detection.backends import DetectorError

    job = claim_job(create_analysis_job(requested_by=None, camera=camera, start=T0, end=T0 + timedelta(seconds=8)).pk)
    with pytest.raises(DetectorError):
        run_claimed_job(job, backend="ultralytics", model=str(tmp_path / "gone.pt"))

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "gone.pt" in job.error and "\n" not in job.error


def test_an_unreadable_segment_is_skipped_and_named(camera, recorded_scene, tiny_detector, settings):
    broken = Path(settings.RECORDINGS_DIR) / recorded_scene[1].path
    broken.write_bytes(b"\0" * 1000)

    job = analyse(camera, tiny_detector())

    assert job.status == JobStatus.DONE
    assert job.report["skipped_files"] == [str(broken)]
    assert job.report["frames_analysed"] == 25  # the first 3 s and the last 2 s


def test_a_range_whose_recordings_are_all_unreadable_fails_saying_so(camera, recorded_scene, tiny_detector, settings):
    for segment in recorded_scene:
        (Path(settings.RECORDINGS_DIR) / segment.path).unlink()

    job = analyse(camera, tiny_detector())

    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.error == "None of the 3 recordings in this range could be read."
    assert len(job.report["skipped_files"]) == 3
