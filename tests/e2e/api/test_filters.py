"""Filtering and paging detections and recorded segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detection.models import ObjectEvent
from recordings.models import Segment


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, 10, hour, minute, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def detections(camera, spare_camera):
    """Four tracked objects; C is still in view (no end)."""

    def add(name, cam, label, confidence, start, end):
        event = ObjectEvent.objects.create(
            camera=cam, label=label, confidence=confidence, box=[0, 0, 1, 1], start=start, end=end
        )
        return name, event.pk

    return dict(
        [
            add("A", camera, "person", 0.9, at(10, 0), at(10, 5)),
            add("B", camera, "car", 0.6, at(10, 10), at(10, 20)),
            add("C", spare_camera, "person", 0.4, at(10, 30), None),
            add("D", camera, "dog", 0.95, at(9, 0), at(9, 50)),
        ]
    )


def shown(response, names: dict) -> set[str]:
    assert response.status_code == 200, response.json()
    by_id = {pk: name for name, pk in names.items()}
    return {by_id[row["id"]] for row in response.json()["results"]}


@pytest.fixture
def api(persona_api_client):
    return persona_api_client("operator")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"camera": "gate"}, {"A", "B", "D"}),
        ({"camera": "spare"}, {"C"}),
        ({"camera": "no-such-camera"}, set()),
        ({"label": "person"}, {"A", "C"}),
        ({"label": ["person", "car"]}, {"A", "B", "C"}),
        ({"min_confidence": "0.9"}, {"A", "D"}),
        ({"start": iso(at(10, 4)), "end": iso(at(10, 12))}, {"A", "B"}),
        ({"start": iso(at(10, 5)), "end": iso(at(10, 10))}, {"A", "B"}),  # touching ends count
        ({"start": iso(at(10, 25))}, {"C"}),  # still in view: overlaps any later range
        ({"end": iso(at(9, 55))}, {"D"}),
        ({"start": iso(at(11, 0)), "end": iso(at(12, 0))}, {"C"}),
        ({"camera": "gate", "label": ["person", "dog"], "min_confidence": "0.92"}, {"D"}),
        ({"start": "2025-06-10T12:05:00+02:00", "end": "2025-06-10T12:15:00+02:00"}, {"A", "B"}),  # offsets honoured
    ],
)
def test_detections_are_filtered_by_the_query(query, expected, detections, api):
    assert shown(api.get("/api/detections/", query), detections) == expected


def test_detections_come_newest_first(detections, api):
    rows = api.get("/api/detections/").json()["results"]
    assert [row["id"] for row in rows] == [detections[name] for name in ("C", "B", "A", "D")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "2025-13-01T00:00:00Z"}, "end"),
        ({"start": "12/05/2025"}, "start"),
        ({"label": "unicorn"}, "label"),
        ({"min_confidence": "high"}, "min_confidence"),
        ({"source": "guess"}, "source"),
    ],
)
def test_a_bad_detection_filter_is_refused_naming_the_field(query, field, detections, api):
    response = api.get("/api/detections/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("url", ["/api/detections/", "/api/segments/"])
def test_a_start_after_the_end_is_refused(url, db, api):
    response = api.get(url, {"start": iso(at(11)), "end": iso(at(10))})
    assert response.status_code == 400
    assert "end" in response.json()


@pytest.fixture
def segments(camera, spare_camera):
    def add(name, cam, start):
        end = start + timedelta(minutes=10)
        segment = Segment.objects.create(
            camera=cam, start=start, end=end, duration=600.0, path=f"{cam.slug}/{name}.mp4"
        )
        return name, segment.pk

    return dict(
        [
            add("G1", camera, at(10, 0)),
            add("G2", camera, at(10, 10)),
            add("S1", spare_camera, at(10, 0)),
        ]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"camera": "gate"}, {"G1", "G2"}),
        ({"camera": "spare"}, {"S1"}),
        ({"start": iso(at(10, 12)), "end": iso(at(10, 30))}, {"G2"}),
        ({"camera": "gate", "start": iso(at(10, 5)), "end": iso(at(10, 6))}, {"G1"}),
        ({"end": iso(at(9, 59))}, set()),
        ({"start": iso(at(10, 20))}, {"G2"}),  # G2 ends exactly then
    ],
)
def test_segments_are_filtered_by_the_query(query, expected, segments, api):
    assert shown(api.get("/api/segments/", query), segments) == expected


def test_segments_come_oldest_first(segments, api):
    rows = api.get("/api/segments/", {"camera": "gate"}).json()["results"]
    assert [row["id"] for row in rows] == [segments["G1"], segments["G2"]]


@pytest.mark.parametrize(("query", "field"), [({"start": "noon"}, "start"), ({"end": "2025-06-10 25:00"}, "end")])
def test_a_bad_segment_filter_is_refused_naming_the_field(query, field, segments, api):
    response = api.get("/api/segments/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.fixture
def many_detections(camera):
    start = at(0)
    ObjectEvent.objects.bulk_create(
        ObjectEvent(camera=camera, label="person", confidence=0.5, box=[0, 0, 1, 1], start=start + timedelta(seconds=i))
        for i in range(1001)
    )


def test_pages_hold_100_rows_by_default(many_detections, api):
    data = api.get("/api/detections/").json()
    assert (data["count"], len(data["results"]), data["previous"]) == (1001, 100, None)
    assert "page=2" in data["next"]


def test_the_next_link_leads_to_the_next_page(many_detections, api):
    first = api.get("/api/detections/", {"page_size": 600}).json()
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 401
    assert second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_page_size_is_capped_at_1000(many_detections, api):
    data = api.get("/api/detections/", {"page_size": 5000}).json()
    assert len(data["results"]) == 1000
    assert data["next"] is not None


def test_filters_and_paging_combine(many_detections, detections, api):
    data = api.get("/api/detections/", {"label": "car", "page_size": 1}).json()
    assert (data["count"], data["next"]) == (1, None)


def test_a_page_past_the_end_is_not_found(detections, api):
    assert api.get("/api/detections/", {"page": 99}).status_code == 404
