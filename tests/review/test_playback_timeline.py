"""The playback page and its day timeline: spans, segments to play, detection markers."""

from __future__ import annotations

from datetime import timedelta

from detection.models import ObjectEvent
from tests.conftest import T0


def timeline(client, **params):
    return client.get("/playback/timeline/", params)


def test_the_day_lists_spans_segments_and_events_from_local_midnight(operator_client, camera, add_segment):
    a = add_segment(camera, T0)
    b = add_segment(camera, T0 + timedelta(seconds=4))  # back to back: one span
    c = add_segment(camera, T0 + timedelta(seconds=60))  # after a gap: a second span
    person = ObjectEvent.objects.create(
        camera=camera, label="person", confidence=0.91, box=[0.1, 0.1, 0.4, 0.9], start=T0 + timedelta(seconds=5),
        end=T0 + timedelta(seconds=8),
    )  # fmt: skip
    ObjectEvent.objects.create(  # the day before (Paris time): not listed
        camera=camera,
        label="car",
        confidence=0.7,
        box=[0, 0, 1, 1],
        start=T0 - timedelta(hours=11),
        end=T0 - timedelta(hours=10, minutes=59),
    )
    data = timeline(operator_client, camera="gate", date="2026-03-10").json()
    # T0 is 09:00 UTC = 10:00 in Paris: 36000 s after the local midnight.
    assert data["start"] == "2026-03-10T00:00:00+01:00"
    assert data["length"] == 86400
    assert [(s["offset"], s["duration"]) for s in data["spans"]] == [(36000, 8), (36060, 4)]
    assert [s["id"] for s in data["segments"]] == [a.id, b.id, c.id]
    assert data["segments"][1]["offset"] == 36004
    assert data["segments"][0]["url"] == f"/recordings/segments/{a.id}/"
    assert data["segments"][0]["mime"].startswith('video/mp4; codecs="avc1.')  # read from the file
    [event] = data["events"]
    assert event["id"] == person.id
    assert (event["label"], event["offset"], event["end_offset"], event["color"]) == ("person", 36005, 36008, "#e53935")


def test_a_bad_camera_or_day_is_400(operator_client, camera):
    assert "camera" in timeline(operator_client, camera="nope", date="2026-03-10").json()["errors"]
    assert "date" in timeline(operator_client, camera="gate", date="10/03/2026").json()["errors"]
    assert timeline(operator_client, camera="gate").status_code == 400


def test_the_page_opens_the_moment_an_alert_links_to(operator_client, camera):
    html = operator_client.get("/playback/", {"camera": "gate", "at": "2026-03-10T09:00:05+00:00"}).content.decode()
    assert 'data-camera-slug="gate"' in html
    assert 'data-date="2026-03-10"' in html
    assert 'data-at="2026-03-10T10:00:05+01:00"' in html
    assert 'value="2026-03-10T10:00:05"' in html  # the picker shows local time
    # Export from 2 minutes before to 3 after; the neighbouring days one click away.
    assert 'name="start" value="2026-03-10T09:58:05"' in html
    assert 'name="end" value="2026-03-10T10:03:05"' in html
    assert "?camera=gate&amp;at=2026-03-09T12:00:00" in html
    assert "?camera=gate&amp;at=2026-03-11T12:00:00" in html


def test_a_bad_moment_or_camera_on_the_page_is_400_with_a_message(operator_client, camera):
    response = operator_client.get("/playback/", {"camera": "gate", "at": "soon"})
    assert response.status_code == 400
    assert "Give a date and time" in response.content.decode()
    response = operator_client.get("/playback/", {"camera": "nope"})
    assert response.status_code == 400
    assert "There is no camera" in response.content.decode()


def test_a_moment_whose_plus_sign_was_not_encoded_still_opens(operator_client, camera):
    # /playback/?at=2026-03-10T10:00:05+01:00 typed or linked without encoding the "+".
    response = operator_client.get("/playback/?camera=gate&at=2026-03-10T10:00:05+01:00")
    assert response.status_code == 200
    assert 'data-at="2026-03-10T10:00:05+01:00"' in response.content.decode()
    response = operator_client.get("/playback/?camera=gate&at=2026-03-10 10:00:05")  # local time, no offset
    assert 'data-at="2026-03-10T10:00:05+01:00"' in response.content.decode()


def test_the_day_shows_what_live_detection_saw_not_an_analysis_of_it_again(operator_client, camera):
    from detection.models import AnalysisJob, Source

    live = ObjectEvent.objects.create(
        camera=camera, label="person", confidence=0.8, box=[0.1, 0.1, 0.4, 0.9], start=T0, end=T0 + timedelta(seconds=5)
    )
    job = AnalysisJob.objects.create(camera=camera, start=T0, end=T0 + timedelta(minutes=1))
    ObjectEvent.objects.create(  # the same person, found again by an analysis job
        camera=camera, label="person", confidence=0.7, box=[0.1, 0.1, 0.4, 0.9], start=T0,
        end=T0 + timedelta(seconds=5), source=Source.ANALYSIS, job=job,
    )  # fmt: skip
    data = timeline(operator_client, camera="gate", date="2026-03-10").json()
    assert [e["id"] for e in data["events"]] == [live.id]


def boxes(client, **params):
    return client.get("/playback/boxes/", params)


def test_boxes_give_the_paths_of_the_objects_in_a_range(operator_client, camera):
    path = [[0, 0.1, 0.2, 0.3, 0.8], [2.5, 0.4, 0.2, 0.6, 0.8]]
    walker = ObjectEvent.objects.create(
        camera=camera, label="person", confidence=0.9, box=path[0][1:], start=T0, end=T0 + timedelta(seconds=3),
        path=path,
    )  # fmt: skip
    ObjectEvent.objects.create(  # saved before paths were: nothing to draw
        camera=camera, label="car", confidence=0.9, box=[0, 0, 1, 1], start=T0, end=T0 + timedelta(seconds=3)
    )
    ObjectEvent.objects.create(  # outside the range
        camera=camera, label="person", confidence=0.9, box=path[0][1:], start=T0 + timedelta(minutes=5),
        end=T0 + timedelta(minutes=6), path=path,
    )  # fmt: skip
    body = boxes(
        operator_client, camera="gate", start="2026-03-10T09:00:01+00:00", end="2026-03-10T09:01:00+00:00"
    ).json()
    assert body["events"] == [
        {
            "id": walker.id,
            "label": "person",
            "color": "#e53935",
            "start": T0.isoformat(),
            "end": (T0 + timedelta(seconds=3)).isoformat(),
            "path": path,
        }
    ]


def test_boxes_refuse_a_bad_range_naming_the_field(operator_client, camera):
    def errors(**params):
        response = boxes(operator_client, camera="gate", **params)
        assert response.status_code == 400
        return response.json()["errors"]

    assert "start" in errors(end="2026-03-10T09:01:00+00:00")
    assert "end" in errors(start="2026-03-10T09:01:00+00:00", end="2026-03-10T09:00:00+00:00")
    assert "end" in errors(start="2026-03-10T09:00:00+00:00", end="2026-03-10T10:00:00+00:00")  # an hour
    assert (
        "camera"
        in boxes(operator_client, camera="nope", start="2026-03-10T09:00:00", end="2026-03-10T09:01:00").json()[
            "errors"
        ]
    )


def test_a_still_of_the_camera_comes_from_its_newest_readable_recording(
    operator_client, anon_client, camera, add_segment, settings
):
    import io
    from pathlib import Path

    from PIL import Image

    assert operator_client.get("/recordings/cameras/gate/still.jpg").status_code == 404  # nothing recorded yet
    add_segment(camera, T0)
    newest = add_segment(camera, T0 + timedelta(seconds=4))
    newest_file = Path(settings.RECORDINGS_DIR) / newest.path
    newest_file.write_bytes(newest_file.read_bytes()[:100])  # being written: it cannot be read yet
    response = operator_client.get("/recordings/cameras/gate/still.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (320, 240)
    assert anon_client.get("/recordings/cameras/gate/still.jpg").status_code == 302
    assert operator_client.get("/recordings/cameras/nope/still.jpg").status_code == 404


def test_a_preview_is_the_recording_near_that_moment(operator_client, camera, add_segment):
    import io

    from PIL import Image

    add_segment(camera, T0, seconds=4)
    response = operator_client.get("/playback/preview.jpg", {"camera": "gate", "at": "2026-03-10T09:00:03+00:00"})
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (320, 240)
    assert (
        operator_client.get("/playback/preview.jpg", {"camera": "gate", "at": "2026-03-10T09:00:05+00:00"}).status_code
        == 404
    )
    bad = operator_client.get("/playback/preview.jpg", {"camera": "gate", "at": "soon"})
    assert bad.status_code == 400 and "at" in bad.json()["errors"]
