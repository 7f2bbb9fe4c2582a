"""The recognition stage on real faces: who is recognised, who stays unknown, presence,
first in / last out, rate-limited sightings, absence alerts and daily maintenance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from attendance.models import (
    AlertLog,
    AttendanceEvent,
    DailyAttendance,
    EventKind,
    Presence,
    PresenceState,
)
from attendance.recognition.backend import roster_matcher_for
from attendance.recognition.stage import RecognitionConfig, RecognitionStage
from tests.attendance.faces import blurred, photo
from tests.attendance.stage_support import feed


@pytest.fixture
def roster(employee_factory, enrol_photo):
    grace = employee_factory("Grace Hopper")
    eileen = employee_factory("Eileen Collins")
    enrol_photo(grace, photo("hopper"))
    enrol_photo(eileen, photo("collins"))
    return {"grace": grace, "eileen": eileen}


@pytest.fixture
def stage(face_backend, clock, roster, camera):
    config = RecognitionConfig(absence_seconds=10, sighting_seconds=5, vote_window=7, vote_min=3, retention_days=30)
    return RecognitionStage(
        backend=face_backend, matcher=roster_matcher_for(face_backend, threshold=0.4), config=config, clock=clock
    )


def test_an_enrolled_face_is_recognised_and_marked_present(stage, clock, camera, roster):
    start = clock()
    results = feed(stage, clock, camera.pk, photo("hopper"), seconds=2)
    stage.flush()
    tracks = {r[0].track.track_id for r in results}
    assert len(tracks) == 1 and results[-1][0].track.employee_id == roster["grace"].pk
    presence = Presence.objects.get(employee=roster["grace"])
    assert presence.state == PresenceState.AVAILABLE and presence.last_camera == camera
    assert start <= presence.since <= start + timedelta(seconds=1)
    assert presence.last_seen >= clock() - timedelta(seconds=0.5)
    assert AttendanceEvent.objects.filter(employee=roster["grace"], kind=EventKind.ARRIVED).count() == 1
    assert not Presence.objects.filter(employee=roster["eileen"], state=PresenceState.AVAILABLE).exists()


def test_a_stranger_stays_unknown(stage, clock, camera, roster, media_root):
    results = feed(stage, clock, camera.pk, photo("varshney"), seconds=2, scale=1.0)
    stage.flush()
    assert results[-1][0].track.decided and results[-1][0].track.employee_id is None
    assert max(r[0].match.similarity for r in results if r[0].match) < 0.4
    assert not Presence.objects.filter(state=PresenceState.AVAILABLE).exists()
    unknown = AttendanceEvent.objects.get(kind=EventKind.UNKNOWN, employee=None)
    snapshot = cv2.imdecode(np.frombuffer(unknown.snapshot.read(), np.uint8), cv2.IMREAD_COLOR)
    assert snapshot is not None and 60 < snapshot.shape[1] < 640  # the face, not the whole frame


def test_sightings_are_rate_limited_not_one_per_frame(stage, clock, camera, roster):
    feed(stage, clock, camera.pk, photo("hopper"), seconds=12, fps=5)  # 60 frames
    times = list(
        AttendanceEvent.objects.filter(kind=EventKind.SIGHTING).order_by("time").values_list("time", flat=True)
    )
    assert len(times) == 3  # decided at ~0.4 s, then every 5 s
    assert all((b - a).total_seconds() >= 5 for a, b in zip(times, times[1:], strict=False))


def test_blurred_frames_are_gated_out_and_keep_the_identity(stage, clock, camera, roster):
    feed(stage, clock, camera.pk, photo("hopper"), seconds=1)
    results = feed(stage, clock, camera.pk, blurred(photo("hopper")), seconds=0.6)
    assert all(r[0].refusal == "face too blurred" for r in results)
    assert results[-1][0].track.employee_id == roster["grace"].pk
    after = feed(stage, clock, camera.pk, photo("hopper"), seconds=0.4)
    assert after[-1][0].track is results[-1][0].track


def test_absence_alert_after_the_threshold_and_resolved_on_return(stage, clock, camera, roster):
    feed(stage, clock, camera.pk, photo("hopper"), seconds=2)
    left_at = clock()
    feed(stage, clock, camera.pk, None, seconds=9)
    assert not AlertLog.objects.exists()  # 9 s unseen < 10 s threshold
    feed(stage, clock, camera.pk, None, seconds=2)
    alert = AlertLog.objects.get()
    assert alert.employee == roster["grace"] and alert.camera == camera and alert.is_open
    presence = Presence.objects.get(employee=roster["grace"])
    assert presence.state == PresenceState.OFF and presence.since < left_at
    feed(stage, clock, camera.pk, photo("hopper"), seconds=2)
    stage.flush()
    alert.refresh_from_db()
    assert alert.resolved is not None and not alert.is_open
    assert Presence.objects.get(employee=roster["grace"]).state == PresenceState.AVAILABLE
    assert AttendanceEvent.objects.filter(kind=EventKind.ARRIVED).count() == 2


def test_first_in_and_last_out_split_at_local_midnight(face_backend, settings, roster, camera, employee_factory):
    from tests.attendance.conftest import ManualClock

    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9: local midnight is 15:00 UTC the day before
    tokyo = ZoneInfo("Asia/Tokyo")
    clock = ManualClock(datetime(2026, 3, 2, 23, 59, 50, tzinfo=tokyo))
    stage = RecognitionStage(
        backend=face_backend,
        matcher=roster_matcher_for(face_backend, threshold=0.4),
        config=RecognitionConfig(absence_seconds=60),
        clock=clock,
    )
    feed(stage, clock, camera.pk, photo("hopper"), seconds=20, fps=2)  # 23:59:50 -> 00:00:10
    stage.flush()
    days = {row.date.isoformat(): row for row in DailyAttendance.objects.filter(employee=roster["grace"])}
    assert sorted(days) == ["2026-03-02", "2026-03-03"]
    first_day, second_day = days["2026-03-02"], days["2026-03-03"]
    assert first_day.first_in.astimezone(tokyo).strftime("%H:%M:%S") == "23:59:51"  # decided on the 3rd vote
    assert first_day.last_out.astimezone(tokyo).strftime("%H:%M:%S") == "23:59:59"
    assert second_day.first_in.astimezone(tokyo).strftime("%H:%M:%S") == "00:00:00"
    assert second_day.last_out.astimezone(tokyo).strftime("%H:%M:%S") == "00:00:09"


def test_maintenance_purges_old_events_at_start_and_at_midnight(stage, clock, roster, settings):
    settings.TIME_ZONE = "UTC"
    clock.now_value = datetime(2026, 3, 2, 23, 59, 0, tzinfo=ZoneInfo("UTC"))
    old = AttendanceEvent.objects.create(employee=roster["grace"], time=clock() - timedelta(days=31), kind="sighting")
    almost = AttendanceEvent.objects.create(
        employee=roster["grace"], time=clock() - timedelta(days=30) + timedelta(seconds=30), kind="sighting"
    )
    stage.step(None)  # start-up
    assert not AttendanceEvent.objects.filter(pk=old.pk).exists()
    assert AttendanceEvent.objects.filter(pk=almost.pk).exists()
    clock.advance(45)
    stage.step(None)  # 23:59:45: same day, nothing more
    assert AttendanceEvent.objects.filter(pk=almost.pk).exists()
    clock.advance(20)
    stage.step(None)  # past midnight: 30 days before now is now after `almost`
    assert not AttendanceEvent.objects.filter(pk=almost.pk).exists()


def test_a_roster_change_is_picked_up_without_a_restart(stage, clock, camera, roster, employee_factory, enrol_photo):
    feed(stage, clock, camera.pk, photo("varshney"), seconds=1, scale=1.0)
    lav = employee_factory("Lav Varshney")
    enrol_photo(lav, photo("varshney"))
    clock.advance(3)  # a new track after the old one expired
    stage.matcher.invalidate()
    results = feed(stage, clock, camera.pk, photo("varshney"), seconds=1, scale=1.0)
    assert results[-1][0].track.employee_id == lav.pk


def test_presence_writes_are_batched_and_never_cause_a_false_absence(face_backend, clock, roster, camera, monkeypatch):
    from attendance import presence as presence_services

    writes = []
    real = presence_services.record_presence
    monkeypatch.setattr(presence_services, "record_presence", lambda **kw: writes.append(kw) or real(**kw))
    config = RecognitionConfig(absence_seconds=3, write_seconds=5, check_seconds=1)
    stage = RecognitionStage(
        backend=face_backend, matcher=roster_matcher_for(face_backend, threshold=0.4), config=config, clock=clock
    )
    feed(stage, clock, camera.pk, photo("hopper"), seconds=20, fps=5)  # 100 frames
    assert 4 <= len(writes) <= 6  # the arrival at once, then one write every 5 s
    assert not AlertLog.objects.exists()  # the database lags up to 5 s, the 3 s threshold still holds
    feed(stage, clock, camera.pk, None, seconds=5)
    assert AlertLog.objects.filter(employee=roster["grace"]).count() == 1


def test_the_configuration_comes_from_settings(settings):
    settings.ATTENDANCE_ABSENCE_SECONDS = 6
    settings.ATTENDANCE_MIN_SHARPNESS = 33.0
    settings.ATTENDANCE_VOTE_WINDOW = 9
    config = RecognitionConfig.from_settings()
    assert (config.absence_seconds, config.vote_window, config.gates.min_sharpness) == (6, 9, 33.0)
    assert config.write_seconds == 2  # a third of the threshold: other hosts never see a stale last_seen
    assert RecognitionConfig.from_settings(absence_seconds=600).write_seconds == 5
