"""Live-grid layouts in the admin: slots within the grid, one default layout."""

from __future__ import annotations

import pytest

from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.services import save_camera

ADD_URL = "/admin/cameras/dashboardlayout/add/"


@pytest.fixture
def yard(db) -> Camera:
    return save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main"))


def layout_form(name="Lobby", columns=2, rows=2, slots=(), is_default=False, **extra) -> dict:
    """The layout add/change form as the editor posts it: one camera picker per tile
    (slot_<position>); slots are (position, camera) pairs, every other tile empty."""
    data = {"name": name, "columns": str(columns), "rows": str(rows), "show_ai_overlay": "on", **extra}
    if is_default:
        data["is_default"] = "on"
    for position in range(16):
        data[f"slot_{position}"] = ""
    for position, camera in slots:
        data[f"slot_{position}"] = str(camera.pk)
    return data


def change_url(layout: DashboardLayout) -> str:
    return f"/admin/cameras/dashboardlayout/{layout.pk}/change/"


def test_a_2x2_layout_takes_slots_0_to_3(admin_client, camera, yard):
    slots = [(0, camera), (1, yard), (2, camera), (3, yard)]
    response = admin_client.post(ADD_URL, layout_form(slots=slots))

    assert response.status_code == 302
    layout = DashboardLayout.objects.get(name="Lobby")
    assert [(s.position, s.camera.slug) for s in layout.slots.all()] == [
        (0, "gate"),
        (1, "yard"),
        (2, "gate"),
        (3, "yard"),
    ]


def test_a_tile_outside_the_grid_is_refused_with_a_clear_message(admin_client, camera):
    response = admin_client.post(ADD_URL, layout_form(slots=[(0, camera), (4, camera)]))

    assert response.status_code == 200
    assert "A 2x2 grid has 4 tiles; tile(s) 5 are outside it" in response.content.decode()
    assert not DashboardLayout.objects.exists()


def test_the_editor_shows_each_tile_with_its_camera(admin_client, camera, yard):
    layout = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2)
    DashboardSlot.objects.create(layout=layout, position=3, camera=yard)
    form = admin_client.get(change_url(layout)).context["adminform"].form
    assert form["slot_3"].value() == yard.pk and form["slot_0"].value() is None
    html = admin_client.get(change_url(layout)).content.decode()
    assert html.count("data-tile ") == 16 and 'data-span="0,1,3,4"' in html and "layout_editor.js" in html


def test_changing_tiles_replaces_them(admin_client, camera, yard):
    layout = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2)
    DashboardSlot.objects.create(layout=layout, position=0, camera=camera)
    DashboardSlot.objects.create(layout=layout, position=1, camera=camera)
    response = admin_client.post(change_url(layout), layout_form(slots=[(1, yard), (2, camera)]))
    assert response.status_code == 302
    assert [(s.position, s.camera.slug) for s in layout.slots.all()] == [(1, "yard"), (2, "gate")]


def test_a_1_plus_5_layout_is_one_large_tile_and_five_small(admin_client, camera, yard):
    from pipeline.live.selectors import grid_for

    big = [(p, camera) for p in (0, 1, 3, 4)]
    small = [(p, yard) for p in (2, 5, 6, 7, 8)]
    assert admin_client.post(ADD_URL, layout_form(columns=3, rows=3, slots=big + small)).status_code == 302
    columns, rows, tiles = grid_for(DashboardLayout.objects.get())
    assert (columns, rows) == (3, 3)
    large = [t for t in tiles if t.row_span == 2]
    assert len(large) == 1 and large[0].camera == camera and (large[0].row, large[0].column) == (1, 1)
    assert len(tiles) == 6


def test_the_same_camera_may_fill_several_slots(admin_client, camera):
    response = admin_client.post(ADD_URL, layout_form(columns=1, rows=3, slots=[(0, camera), (1, camera), (2, camera)]))

    assert response.status_code == 302
    assert DashboardSlot.objects.filter(camera=camera).count() == 3


def test_shrinking_a_layout_below_its_tiles_is_refused(admin_client, camera):
    layout = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2)
    for p in (0, 3):
        DashboardSlot.objects.create(layout=layout, position=p, camera=camera)

    response = admin_client.post(change_url(layout), layout_form(columns=1, rows=2, slots=[(0, camera), (3, camera)]))

    assert response.status_code == 200
    assert "A 1x2 grid has 2 tiles; tile(s) 4 are outside it" in response.content.decode()
    layout.refresh_from_db()
    assert (layout.columns, layout.rows) == (2, 2) and layout.slots.count() == 2


def test_a_camera_that_does_not_exist_is_refused(admin_client, camera):
    data = layout_form(slots=[(0, camera)])
    data["slot_1"] = "999999"
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not DashboardLayout.objects.exists()


@pytest.mark.parametrize(("columns", "rows"), [(0, 2), (5, 2), (2, 0), (2, 5)])
def test_columns_and_rows_are_1_to_4(admin_client, columns, rows):
    response = admin_client.post(ADD_URL, layout_form(columns=columns, rows=rows))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == ({"columns"} if columns in (0, 5) else {"rows"})
    assert not DashboardLayout.objects.exists()


@pytest.mark.parametrize(("columns", "rows"), [(1, 1), (4, 4)])
def test_the_smallest_and_largest_grids_are_accepted(admin_client, columns, rows):
    assert admin_client.post(ADD_URL, layout_form(columns=columns, rows=rows)).status_code == 302
    assert DashboardLayout.objects.get().capacity == columns * rows


def test_making_a_second_layout_default_moves_the_flag(admin_client):
    first = DashboardLayout.objects.create(name="Entrance", is_default=True)

    response = admin_client.post(ADD_URL, layout_form(name="Lobby", is_default=True))

    assert response.status_code == 302
    assert list(DashboardLayout.objects.filter(is_default=True).values_list("name", flat=True)) == ["Lobby"]
    first.refresh_from_db()
    assert not first.is_default


def test_making_an_existing_layout_default_moves_the_flag(admin_client):
    DashboardLayout.objects.create(name="Entrance", is_default=True)
    lobby = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2)

    response = admin_client.post(change_url(lobby), layout_form(name="Lobby", is_default=True))

    assert response.status_code == 302
    assert list(DashboardLayout.objects.filter(is_default=True)) == [lobby]


def test_saving_a_new_default_in_code_moves_the_flag(db):
    DashboardLayout.objects.create(name="Entrance", is_default=True)
    DashboardLayout.objects.create(name="Lobby", is_default=True)
    DashboardLayout.objects.create(name="Yard", is_default=False)

    assert list(DashboardLayout.objects.filter(is_default=True).values_list("name", flat=True)) == ["Lobby"]


def test_an_operator_cannot_edit_layouts(operator_client, camera):
    response = operator_client.post(ADD_URL, layout_form(slots=[(0, camera)]))
    assert response.status_code == 403
    assert not DashboardLayout.objects.exists()
