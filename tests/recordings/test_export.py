"""A time range exported as one MP4, remuxed from the segments (never re-encoded)."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlencode

import av
import pytest

from tests.conftest import T0


def export(client, **params):
    return client.get("/recordings/export/?" + urlencode(params))


def read_video(data: bytes):
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.dts is not None]
        seconds = float((packets[-1].pts + packets[-1].duration - packets[0].pts) * stream.time_base)
        return stream.codec_context.name, packets, seconds


@pytest.fixture
def two_segments(camera, add_segment):
    # 4 s + 4 s back to back, then 2 s missing, then 4 s more.
    return [
        add_segment(camera, T0),
        add_segment(camera, T0 + timedelta(seconds=4)),
        add_segment(camera, T0 + timedelta(seconds=10)),
    ]


def test_a_range_across_segments_becomes_one_mp4(operator_client, two_segments):
    response = export(
        operator_client,
        camera="gate",
        start=(T0 + timedelta(seconds=1)).isoformat(),
        end=(T0 + timedelta(seconds=7)).isoformat(),
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    data = b"".join(response.streaming_content)
    codec, packets, seconds = read_video(data)
    assert codec == "h264"
    assert packets[0].is_keyframe  # starts at the keyframe at 1 s
    assert 5.8 <= seconds <= 6.3
    assert sum(p.is_keyframe for p in packets) == 6  # one per second: nothing re-encoded
    assert data.find(b"moov") < data.find(b"mdat")  # faststart


def test_a_gap_in_the_recording_stays_a_gap(operator_client, two_segments):
    response = export(
        operator_client, camera="gate", start=T0.isoformat(), end=(T0 + timedelta(seconds=14)).isoformat()
    )
    _, packets, seconds = read_video(b"".join(response.streaming_content))
    assert 13.8 <= seconds <= 14.2  # 12 s of video laid out over 14 s of wall clock
    assert len(packets) == 120


def test_the_packets_are_copied_byte_for_byte(operator_client, two_segments, recordings_dir):
    response = export(operator_client, camera="gate", start=T0.isoformat(), end=(T0 + timedelta(seconds=4)).isoformat())
    _, packets, _ = read_video(b"".join(response.streaming_content))
    with av.open(str(recordings_dir / two_segments[0].path)) as source:
        original = [bytes(p) for p in source.demux(source.streams.video[0]) if p.dts is not None]
    assert [bytes(p) for p in packets[: len(original)]] == original


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-03-10T10:00:00", "end": "2026-03-10T10:01:00"}, "camera", "Choose a camera"),
        ({"camera": "nope", "start": "2026-03-10T10:00:00", "end": "2026-03-10T10:01:00"}, "camera", "no camera"),
        ({"camera": "gate", "start": "yesterday", "end": "2026-03-10T10:01:00"}, "start", "date and time"),
        ({"camera": "gate", "start": "2026-03-10T10:01:00", "end": "2026-03-10T10:00:00"}, "end", "after the start"),
        ({"camera": "gate", "start": "2026-03-10T10:00:00", "end": "2026-03-10T13:00:00"}, "end", "at most 60"),
        ({"camera": "gate", "start": "2026-03-10T10:00:00+23:00", "end": "2026-03-10T13:00:00"}, "start", "offset"),
    ],
)
def test_bad_ranges_are_400_with_a_message(operator_client, camera, recordings_dir, params, field, message):
    response = export(operator_client, **params)
    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]


def test_a_range_with_nothing_recorded_is_404_with_a_message(operator_client, two_segments):
    start = T0 + timedelta(days=1)
    response = export(
        operator_client, camera="gate", start=start.isoformat(), end=(start + timedelta(minutes=1)).isoformat()
    )
    assert response.status_code == 404
    assert "Nothing was recorded" in response.json()["errors"]["detail"][0]


def test_the_export_leaves_no_temporary_file(operator_client, two_segments, settings):
    before = set(settings.STATE_DIR.iterdir())
    response = export(operator_client, camera="gate", start=T0.isoformat(), end=(T0 + timedelta(seconds=5)).isoformat())
    b"".join(response.streaming_content)
    response.close()
    assert set(settings.STATE_DIR.iterdir()) == before


def test_anonymous_visitors_cannot_export(anon_client, two_segments):
    response = export(anon_client, camera="gate", start=T0.isoformat(), end=(T0 + timedelta(seconds=5)).isoformat())
    assert response.status_code == 302
