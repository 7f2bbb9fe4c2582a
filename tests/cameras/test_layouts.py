"""Live-grid layouts in the admin: slots within the grid, one default layout."""

from __future__ import annotations

import pytest

from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.services import save_camera

ADD_URL = "/admin/cameras/dashboardlayout/add/"


@pytest.fixture
def yard(db) -> Camera:
    return save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main"))


def layout_form(name="Lobby", columns=2, rows=2, slots=(), initial=(), is_default=False, **extra) -> dict:
    """The layout add/change form with its slot inline: slots are (position, camera) pairs,
    initial are existing DashboardSlot rows kept as they are."""
    data = {"name": name, "columns": str(columns), "rows": str(rows), "show_ai_overlay": "on", **extra}
    if is_default:
        data["is_default"] = "on"
    forms = [(slot.pk, slot.position, slot.camera_id) for slot in initial]
    forms += [("", position, camera.pk) for position, camera in slots]
    data.update(
        {
            "slots-TOTAL_FORMS": str(len(forms)),
            "slots-INITIAL_FORMS": str(len(initial)),
            "slots-MIN_NUM_FORMS": "0",
            "slots-MAX_NUM_FORMS": "1000",
        }
    )
    for i, (pk, position, camera_id) in enumerate(forms):
        data[f"slots-{i}-id"] = str(pk)
        data[f"slots-{i}-position"] = str(position)
        data[f"slots-{i}-camera"] = str(camera_id)
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


def test_a_slot_outside_the_grid_is_refused_with_a_clear_message(admin_client, camera):
    response = admin_client.post(ADD_URL, layout_form(slots=[(0, camera), (4, camera)]))

    assert response.status_code == 200
    assert "The layout has 4 tiles: use 0 to 3." in response.content.decode()
    assert not DashboardLayout.objects.exists()


def test_the_same_camera_may_fill_several_slots(admin_client, camera):
    response = admin_client.post(ADD_URL, layout_form(columns=1, rows=3, slots=[(0, camera), (1, camera), (2, camera)]))

    assert response.status_code == 302
    assert DashboardSlot.objects.filter(camera=camera).count() == 3


def test_two_cameras_in_one_slot_are_refused(admin_client, camera, yard):
    response = admin_client.post(ADD_URL, layout_form(slots=[(1, camera), (1, yard)]))

    assert response.status_code == 200
    assert "Please correct the duplicate data for" in response.content.decode()
    assert not DashboardSlot.objects.exists()


def test_shrinking_a_layout_below_its_slots_is_refused(admin_client, camera):
    layout = DashboardLayout.objects.create(name="Lobby", columns=2, rows=2)
    kept = [DashboardSlot.objects.create(layout=layout, position=p, camera=camera) for p in (0, 3)]

    response = admin_client.post(change_url(layout), layout_form(columns=1, rows=2, initial=kept))

    assert response.status_code == 200
    assert "The layout has 2 tiles: use 0 to 1." in response.content.decode()
    layout.refresh_from_db()
    assert (layout.columns, layout.rows) == (2, 2)


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
