"""A restarted inference stage continues the events its killed predecessor left going: a
person still in view stays one ObjectEvent (issue 15, finding 12: a detector restart
split each person in view into two events)."""

from __future__ import annotations

import queue
from datetime import timedelta

import pytest
from django.utils import timezone

from detection.models import ObjectEvent
from detection.services import ObjectEventStore, close_stale_live_events
from detection.stage import InferenceStage
from tests.detection.test_inference_stage import YellowBoxDetector, ai, background, put, with_box

LOST_AFTER = timedelta(seconds=5)
UPDATE_EVERY = timedelta(seconds=5)


@pytest.fixture
def frames():
    return queue.Queue(maxsize=64)


class FrameClock:
    """The stages' wall clock: the time of the newest frame shown (so the test does not
    depend on how fast this machine runs it)."""

    def __init__(self):
        self.at = timezone.now()

    def __call__(self):
        return self.at


@pytest.fixture
def clock():
    return FrameClock()


@pytest.fixture
def new_stage(frames, camera, clock):
    """A fresh stage over the real database, as a (re)started inference process makes it."""

    def make():
        return InferenceStage(
            frames=frames,
            detector=YellowBoxDetector(),
            camera_settings=lambda: {camera.pk: ai(camera.pk, camera.slug)},
            store=ObjectEventStore({camera.pk: camera}),
            batch_size=1,
            batch_ms=5,
            lost_after=LOST_AFTER,
            update_every=UPDATE_EVERY,
            now=clock,
        )

    return make


def show(stage, frames, camera, start, seconds, x, *, with_background=True):
    """Feed the stage `seconds` of frames at 5 fps with the person at `x`; the last frame's time."""
    if with_background:
        stage.now.at = start
        put(frames, camera.pk, background(), start)
        stage.step()
    at = start
    for i in range(1, int(seconds * 5) + 1):
        at = stage.now.at = start + timedelta(seconds=i / 5)
        put(frames, camera.pk, with_box(background(), x + i % 2), at)
        stage.step()
    return at


def restart_process(camera, clock, *, after):
    """A new process starts `after` the old one's last frame, and does what
    pipeline.processes.inference.main does before its stage runs."""
    clock.at += after
    close_stale_live_events([camera.pk], started_before=clock.at - (LOST_AFTER + UPDATE_EVERY))


def test_a_person_still_in_view_across_a_detector_restart_is_one_event(new_stage, frames, camera, clock):
    t0 = clock.at - timedelta(seconds=6)
    first = new_stage()
    show(first, frames, camera, t0, 4, x=100)
    started = ObjectEvent.objects.get().start
    # The process dies (kill -9, a crash): nothing is closed. A new one starts.
    restart_process(camera, clock, after=timedelta(seconds=2))
    restarted_at = clock.at
    second = new_stage()
    show(second, frames, camera, clock.at, 3, x=102, with_background=False)
    assert second.cameras[camera.pk].events.resumed == 1
    second.close()

    event = ObjectEvent.objects.get()  # one, not two
    assert event.start == started
    assert event.end > restarted_at  # seen by the new process, in the same event
    # Its path goes on from where the first process left it.
    seconds = [p[0] for p in event.path]
    assert seconds == sorted(seconds)
    assert seconds[0] < 4 and seconds[-1] > (restarted_at - started).total_seconds()


def test_a_restarted_stage_continues_an_event_its_predecessor_had_saved_a_sighting_of(new_stage, frames, camera, clock):
    t0 = clock.at - timedelta(seconds=9)
    first = new_stage()
    show(first, frames, camera, t0, 7, x=60)  # longer than UPDATE_EVERY: the end was saved once
    saved = ObjectEvent.objects.get()
    assert saved.end is not None

    restart_process(camera, clock, after=timedelta(seconds=2))
    restarted_at = clock.at
    second = new_stage()
    show(second, frames, camera, clock.at, 2, x=61, with_background=False)
    second.close()

    assert ObjectEvent.objects.count() == 1
    assert ObjectEvent.objects.get().end > restarted_at


def test_someone_elsewhere_after_a_restart_is_a_new_event_and_the_old_one_ends_at_its_last_sighting(
    new_stage, frames, camera, clock
):
    t0 = clock.at - timedelta(seconds=6)
    first = new_stage()
    show(first, frames, camera, t0, 4, x=20)
    old = ObjectEvent.objects.get()

    restart_process(camera, clock, after=timedelta(seconds=2))
    second = new_stage()
    show(second, frames, camera, clock.at, 2, x=250, with_background=False)
    # Nobody took the old event up within its window: the stage closes it.
    clock.at += LOST_AFTER + UPDATE_EVERY + timedelta(seconds=1)
    second.step()

    assert ObjectEvent.objects.count() == 2
    old.refresh_from_db()
    assert old.end == old.start  # it was never saved again: its one sighting
    assert not second.cameras[camera.pk].events.resumable


def test_events_left_open_long_ago_are_closed_when_the_process_starts(camera, clock):
    from detection.services import start_object_event

    long_ago = start_object_event(
        camera=camera,
        label="person",
        confidence=0.9,
        box=[0, 0, 0.1, 0.1],
        track_id=1,
        at=clock.at - timedelta(hours=1),
    )
    lately = start_object_event(
        camera=camera, label="person", confidence=0.9, box=[0, 0, 0.1, 0.1], track_id=2, at=clock.at
    )

    restart_process(camera, clock, after=timedelta(seconds=2))

    long_ago.refresh_from_db()
    lately.refresh_from_db()
    assert long_ago.end == long_ago.start
    assert lately.end is None  # the new stage's to continue or close
