"""Zones and masks in the live stage, driven frame by frame with the real database and a
detector whose answer the test controls: an event records the zones its object entered (for
N frames in a row, of its class, after loitering); an object mask drops what stands in it;
a motion mask keeps the detector asleep for what moves only there."""

# ruff: noqa: F811  (the stage fixtures of test_inference_stage, imported by name, are arguments here)

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Zone, ZoneKind
from cameras.zones import areas
from detection.models import ObjectEvent
from tests.detection.test_inference_stage import (  # noqa: F401  (fixtures)
    H,
    W,
    YellowBoxDetector,
    ai,
    background,
    frames,
    make_stage,
    published,
    put,
    with_box,
)

# The right half of the picture, as a zone or a mask.
RIGHT = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]


def settings_with(camera, *zones, **overrides):
    return lambda: {camera.pk: ai(camera.pk, camera.slug, areas=areas(zones), **overrides)}


def walk(stage, frames, camera, xs, *, t0=None, every=0.2):
    """The person (a yellow box 30 px wide, its feet at y 120) at each x in turn, 5 fps."""
    t0 = t0 or timezone.now() - timedelta(minutes=2)
    put(frames, camera.pk, background(), t0)
    stage.step()
    for i, x in enumerate(xs, start=1):
        put(frames, camera.pk, with_box(background(), x), t0 + timedelta(seconds=i * every))
        stage.step()
    stage.close()
    return t0


def test_an_event_records_the_zones_its_object_entered(make_stage, frames, camera):
    yard = Zone(name="Yard", kind=ZoneKind.ZONE, points=RIGHT, min_frames=3)
    stage = make_stage(settings=settings_with(camera, yard), batch_size=1)
    walk(stage, frames, camera, range(20, 300, 10))  # from the left half into the right
    event = ObjectEvent.objects.get()
    assert event.zones == ["Yard"]


def test_a_zone_counts_an_object_only_after_n_frames_in_a_row_and_of_its_classes(make_stage, frames, camera):
    yard = Zone(name="Yard", points=RIGHT, min_frames=4)
    lot = Zone(name="Lot", points=RIGHT, classes=["car"])
    stage = make_stage(settings=settings_with(camera, yard, lot), batch_size=1)
    # Its feet (centre x + 15 px) cross the middle (160 px) for three frames, then go back.
    walk(stage, frames, camera, [100, 108, 116, 124, 132, 140, 148, 154, 150, 140, 132, 124, 116])
    # (ByteTrack may give the turn a new id: one event or two, none in a zone.)
    assert ObjectEvent.objects.exists()
    assert [e.zones for e in ObjectEvent.objects.all()] == [[]] * ObjectEvent.objects.count()


def test_a_loitering_zone_counts_an_object_that_stayed_long_enough(make_stage, frames, camera):
    door = Zone(name="Door", points=RIGHT, min_frames=1, loiter_seconds=3)
    stage = make_stage(settings=settings_with(camera, door), batch_size=1)
    walk(stage, frames, camera, [200 + i % 2 for i in range(10)])  # 2 s at the door
    assert ObjectEvent.objects.get().zones == []
    ObjectEvent.objects.all().delete()
    stage = make_stage(settings=settings_with(camera, door), batch_size=1)
    walk(stage, frames, camera, [200 + i % 2 for i in range(25)])  # 5 s
    assert ObjectEvent.objects.get().zones == ["Door"]


def test_an_object_standing_in_an_object_mask_makes_no_event(make_stage, frames, camera, published):
    poster = Zone(name="Poster", kind=ZoneKind.OBJECT_MASK, points=RIGHT)
    stage = make_stage(settings=settings_with(camera, poster), batch_size=1)
    walk(stage, frames, camera, [200 + i % 2 for i in range(15)])
    assert not ObjectEvent.objects.exists()
    assert not [o for _, p in published.messages for o in p["objects"]]
    # The same walk in the left half is an event.
    stage = make_stage(settings=settings_with(camera, poster), batch_size=1)
    walk(stage, frames, camera, [40 + i % 2 for i in range(15)])
    assert ObjectEvent.objects.count() == 1


def test_motion_only_in_a_motion_mask_keeps_the_detector_asleep(make_stage, frames, camera):
    clock = Zone(name="Timestamp", kind=ZoneKind.MOTION_MASK, points=RIGHT)
    masked = YellowBoxDetector()
    stage = make_stage(masked, settings=settings_with(camera, clock), batch_size=1)
    walk(stage, frames, camera, [200 + 8 * i for i in range(12)])  # moving, in the right half only
    assert sum(masked.calls) == 1  # the first frame, to learn the scene
    plain = YellowBoxDetector()
    stage = make_stage(plain, settings=settings_with(camera), batch_size=1)
    walk(stage, frames, camera, [200 + 8 * i for i in range(12)])
    assert sum(plain.calls) > 6


@pytest.mark.parametrize("kind", [ZoneKind.ZONE, ZoneKind.OBJECT_MASK, ZoneKind.MOTION_MASK])
def test_the_stage_takes_up_zones_saved_while_it_runs(make_stage, frames, camera, kind):
    """The settings come from the database (camera_ai_settings), re-read as the stage runs."""
    from detection.selectors import camera_ai_settings

    stage = make_stage(settings=lambda: camera_ai_settings([camera.pk]), batch_size=1, refresh_s=0)
    Zone.objects.create(camera=camera, name="Right", kind=kind, points=RIGHT, min_frames=1)
    stage.refresh(force=True)
    assert [a.name for a in stage.cameras[camera.pk].ai.areas] == ["Right"]
    assert W == 320 and H == 180
