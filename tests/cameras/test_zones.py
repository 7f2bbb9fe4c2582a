"""Zones and masks: which outlines are refused and why, where an object stands, and the API
(admins write, operators read, a bad outline is a 400 naming the problem and stores nothing)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cameras.models import Zone, ZoneKind
from cameras.zones import Area, AreaMap, check_points

SQUARE = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]


def refused(points) -> str:
    with pytest.raises(ValidationError) as e:
        check_points(points)
    return e.value.messages[0]


def test_a_plain_outline_is_kept_rounded():
    assert check_points([[0.1234567, 0], [1, 0], [1, 1]]) == [[0.12346, 0.0], [1.0, 0.0], [1.0, 1.0]]
    assert check_points(SQUARE) == SQUARE


def test_bad_outlines_are_refused_saying_what_is_wrong():
    assert "3 to 100 points; this one has 2" in refused([[0, 0], [1, 1]])
    assert "this one has 101" in refused([[0.5 + 0.4 * (i % 2), i / 101] for i in range(101)])
    assert "Point 2 (1.2, 0.5) is outside the picture" in refused([[0, 0], [1.2, 0.5], [0, 1]])
    assert "Point 3 (0.5, -0.1) is outside" in refused([[0, 0], [1, 0], [0.5, -0.1]])
    assert "Point 1 is not a pair" in refused([[0, 0, 0], [1, 0], [1, 1]])
    assert "Point 2 is not a pair" in refused([[0, 0], [True, 0], [1, 1]])
    assert "Point 2 is not a pair" in refused([[0, 0], ["1", 0], [1, 1]])
    assert "Point 3 is not a pair" in refused([[0, 0], [1, 0], [float("nan"), 1]])
    assert "list of [x, y] points" in refused("0,0 1,0 1,1")
    assert "encloses (almost) nothing" in refused([[0, 0], [0.5, 0.5], [1, 1]])  # a line
    assert "encloses (almost) nothing" in refused([[0.5, 0.5], [0.51, 0.5], [0.51, 0.51]])
    # A bow tie: its two sides cross at the middle.
    assert "crosses itself near (0.50, 0.50)" in refused([[0, 0], [1, 1], [1, 0], [0, 1]])


def test_an_object_stands_where_the_bottom_of_its_box_is():
    yard = Area.of(Zone(name="Yard", points=SQUARE, classes=["person"]))
    everything = Area.of(Zone(name="All", points=SQUARE))
    where = AreaMap((yard, everything))
    head_out_feet_in, body_in_feet_out = (0.3, 0.1, 0.5, 0.6), (0.3, 0.5, 0.5, 0.9)
    boxes = [head_out_feet_in, body_in_feet_out, head_out_feet_in]
    assert where.inside(boxes) == [(True, True), (False, False), (True, True)]
    # A zone for some classes only.
    assert where.inside(boxes, ["person", "person", "car"]) == [(True, True), (False, False), (False, True)]


def test_the_map_places_an_outline_to_a_fraction_of_the_picture():
    """A triangle's slanted edge: points 1/100 of the picture inside or outside it are told
    apart (the map's cells are 1/400)."""
    triangle = Area.of(Zone(name="T", points=[[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]]))
    where = AreaMap((triangle,))
    feet = [(x, y) for x, y in ((0.3, 0.69), (0.3, 0.71), (0.6, 0.39), (0.6, 0.41), (0.05, 0.5), (0.5, 0.05))]
    boxes = [(x - 0.01, y - 0.1, x + 0.01, y) for x, y in feet]
    assert [row[0] for row in where.inside(boxes)] == [True, False, True, False, False, False]
    assert AreaMap(()).inside(boxes) == [()] * len(boxes)


# --- The API ---------------------------------------------------------------------------
@pytest.fixture
def yard(camera):
    return Zone.objects.create(camera=camera, name="Yard", points=SQUARE, alert=True)


def test_an_admin_draws_a_zone_and_an_operator_reads_it(persona_api_client, camera, yard):
    admin = persona_api_client("admin")
    body = {
        "camera": camera.slug,
        "name": "Timestamp",
        "kind": "motion_mask",
        "points": [[0, 0], [0.3, 0], [0.3, 0.06]],
    }
    made = admin.post("/api/zones/", body, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["points"] == [[0.0, 0.0], [0.3, 0.0], [0.3, 0.06]]
    listed = persona_api_client("operator").get(f"/api/zones/?camera={camera.slug}").json()
    assert [(z["name"], z["kind"]) for z in listed["results"]] == [("Timestamp", "motion_mask"), ("Yard", "zone")]
    assert persona_api_client("operator").post("/api/zones/", body, format="json").status_code == 403
    assert persona_api_client("anonymous").get("/api/zones/").status_code == 401


@pytest.mark.parametrize(
    "points, message",
    [
        ([[0, 0], [1, 1], [1, 0], [0, 1]], "crosses itself"),
        ([[0, 0], [0.5, 0.5], [1, 1]], "encloses (almost) nothing"),
        ([[0, 0], [2, 0], [1, 1]], "outside the picture"),
        ([[i / 200, (i % 2) * 0.5] for i in range(101)], "3 to 100 points"),
        ("everywhere", "list of [x, y] points"),
    ],
)
def test_a_bad_outline_is_a_400_naming_it_and_nothing_changes(persona_api_client, camera, yard, points, message):
    admin = persona_api_client("admin")
    made = admin.post("/api/zones/", {"camera": camera.slug, "name": "Bad", "points": points}, format="json")
    assert made.status_code == 400
    assert message in made.json()["points"][0]
    changed = admin.patch(f"/api/zones/{yard.pk}/", {"points": points}, format="json")
    assert changed.status_code == 400
    assert message in changed.json()["points"][0]
    yard.refresh_from_db()
    assert yard.points == SQUARE
    assert list(Zone.objects.values_list("name", flat=True)) == ["Yard"]


def test_two_zones_of_a_camera_cannot_share_a_name(persona_api_client, camera, yard):
    made = persona_api_client("admin").post(
        "/api/zones/", {"camera": camera.slug, "name": "Yard", "points": SQUARE}, format="json"
    )
    assert made.status_code == 400
    assert Zone.objects.get().kind == ZoneKind.ZONE


def test_text_no_slug_can_be_is_a_400_not_a_500(persona_api_client, camera):
    """PostgreSQL cannot store or look up NUL: the camera field says it does not exist."""
    made = persona_api_client("admin").post(
        "/api/zones/", {"camera": "\x00", "name": "Yard", "points": SQUARE}, format="json"
    )
    assert made.status_code == 400 and "camera" in made.json()
    assert persona_api_client("operator").get("/api/zones/?kind=").status_code == 400
