"""Offline analysis with motion crops (DETECTOR_MOTION_CROP), on recorded 1080p footage of a
still scene (two people standing, zidane.jpg) where a far person, 56 px tall, walks across:
the bundled detector, run for real, finds the far person only in crops, and the people
standing outside the crops stay seen between whole-frame looks."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import av
import numpy as np
import pytest

from bench.detect.crops import far_walker
from cameras.frames import Frame
from detection.analysis.gate import ChangeGate
from detection.analysis.services import run_claimed_job, start_analysis_here
from detection.backends import Detection
from detection.look import Look
from detection.models import JobStatus
from detection.motion import FAR_GATE
from tests.detection.tiny_yolo import *  # noqa: F403  (fixtures)
from tests.detection.tiny_yolo import T0, record

pytestmark = pytest.mark.django_db

FPS, SECONDS = 5, 12


@pytest.fixture(scope="module")
def far_walker_clip(tmp_path_factory):
    frames, boxes = far_walker(FPS * SECONDS, rng=np.random.default_rng(11))
    path = tmp_path_factory.mktemp("far") / "far.mp4"
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=Fraction(FPS))
        video.width, video.height, video.pix_fmt = 1920, 1080, "yuv420p"
        video.codec_context.gop_size = 2 * FPS
        video.options = {"preset": "ultrafast", "bf": "0", "crf": "18"}
        for image in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path, boxes


def analyse(camera, onnx_detector, settings, *, crops: bool):
    settings.DETECTOR_MOTION_CROP = crops
    job = start_analysis_here(
        camera=camera,
        start=T0,
        end=T0 + timedelta(seconds=SECONDS),
        classes=["person"],
        confidence=0.25,
        sample_fps=FPS,
        annotate=False,
    )
    job = run_claimed_job(job, detector=onnx_detector)
    assert job.status == JobStatus.DONE, job.error
    return list(job.events.order_by("start"))


def far_person_events(events):
    # The far person walks along y 0.45-0.50; zidane's two people are much taller.
    return [e for e in events if e.label == "person" and e.box[3] - e.box[1] < 0.1]


def test_the_far_person_is_found_in_crops_and_not_in_the_whole_frame(
    camera, media_dirs, far_walker_clip, onnx_detector, settings
):
    record(far_walker_clip[0], camera, media_dirs.RECORDINGS_DIR, segment_seconds=4.0)

    whole = analyse(camera, onnx_detector, settings, crops=False)
    cropped = analyse(camera, onnx_detector, settings, crops=True)

    assert far_person_events(whole) == []
    found = far_person_events(cropped)
    assert found, [(e.label, e.box, e.start, e.end) for e in cropped]
    seen = sum(((e.end or e.start) - e.start for e in found), timedelta())
    # It walks for the whole clip and is seen for most of it: not while it crosses the man on
    # the right, whose shirt hides it from this model even in a crop (7-10.5 s).
    assert seen >= timedelta(seconds=0.6 * SECONDS), [(e.start.time(), e.end.time(), e.box) for e in found]


def test_a_man_standing_outside_the_crops_stays_one_event(camera, media_dirs, far_walker_clip, onnx_detector, settings):
    """zidane.jpg's man on the right: found in the first (whole-frame) look, kept while only
    crops are looked at, also while the crops around the walker cut into him."""
    record(far_walker_clip[0], camera, media_dirs.RECORDINGS_DIR, segment_seconds=4.0)

    events = analyse(camera, onnx_detector, settings, crops=True)

    man = [e for e in events if e.label == "person" and e.box[0] > 0.5 and e.box[3] - e.box[1] >= 0.3]
    assert len(man) == 1, [(e.box, e.confidence, e.start.time(), e.end.time()) for e in man]
    assert man[0].start - T0 < timedelta(seconds=1)
    assert man[0].end - T0 > timedelta(seconds=SECONDS - 1)


def test_a_box_cut_by_a_crop_inside_the_frame_is_dropped_and_one_at_the_frame_edge_kept():
    image = np.zeros((100, 200, 3), np.uint8)
    crop = (0.0, 0.25, 0.5, 0.75)  # left edge on the frame's, the three others cut into it
    look = Look(Frame(1, T0, image, 200, 100), (crop,))
    found = [
        Detection("person", 0.8, (0.0, 0.2, 0.3, 0.9)),  # on the frame's edge: a whole object there
        Detection("person", 0.7, (0.4, 0.0, 0.6, 0.5)),  # cut by the crop's top edge: a piece
        Detection("person", 0.6, (0.5, 0.3, 1.0, 0.7)),  # cut by its right edge
        Detection("car", 0.5, (0.3, 0.3, 0.6, 0.6)),  # inside
    ]
    kept = look.to_frame([found])
    assert [d.confidence for d in kept] == [0.8, 0.5]
    assert kept[1].box == pytest.approx((0.15, 0.4, 0.3, 0.55))


def test_the_change_gate_names_where_the_change_is():
    frames, boxes = far_walker(3, rng=np.random.default_rng(2))
    gate = ChangeGate(**FAR_GATE)
    assert gate.check(frames[0]).reason == "first frame"
    gate.keep(frames[0])
    change = gate.check(frames[2])
    assert change.moving and change.reason == "motion"
    # Two regions at most (where the person was, where it is), each around a person box.
    assert 1 <= len(change.regions) <= 2
    for box in (boxes[0], boxes[2]):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        assert any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in change.regions)
    assert not ChangeGate(**FAR_GATE).check(frames[0]).reason == "motion"


def test_the_cameras_masks_apply_to_offline_analysis(camera, media_dirs, far_walker_clip, onnx_detector, settings):
    """An object mask over the right half drops the man standing there; a motion mask over
    the far person's path hides the change it makes, so crops never look there."""
    from cameras.models import Zone, ZoneKind

    record(far_walker_clip[0], camera, media_dirs.RECORDINGS_DIR, segment_seconds=4.0)
    Zone.objects.create(
        camera=camera, name="Right", kind=ZoneKind.OBJECT_MASK, points=[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]
    )
    Zone.objects.create(
        camera=camera, name="Path", kind=ZoneKind.MOTION_MASK, points=[[0, 0.4], [1, 0.4], [1, 0.56], [0, 0.56]]
    )
    events = analyse(camera, onnx_detector, settings, crops=True)
    people = [e for e in events if e.label == "person"]
    assert not [e for e in people if (e.box[0] + e.box[2]) / 2 > 0.5], [e.box for e in people]
    assert far_person_events(people) == []
