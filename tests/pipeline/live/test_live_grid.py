"""The live grid follows the DashboardLayout: rows x columns, slots mapped to cameras."""

from __future__ import annotations

import re

from cameras.models import Camera, DashboardLayout, DashboardSlot
from cameras.services import save_camera


def tiles(html: str) -> list[tuple[str, str]]:
    """(camera slug or 'empty', grid style) per tile, in page order."""
    found = []
    for match in re.finditer(r'<section class="tile( empty)?"[^>]*?style="([^"]+)"([^>]*)>', html):
        slug = re.search(r'data-camera="([^"]+)"', match.group(0))
        found.append((slug.group(1) if slug else "empty", match.group(2)))
    return found


def test_a_camera_over_a_block_of_slots_is_one_big_tile(operator_client, camera):
    yard = save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main"))
    layout = DashboardLayout.objects.create(name="Gate big", columns=3, rows=2, is_default=True)
    for position in (0, 1, 3, 4):
        DashboardSlot.objects.create(layout=layout, position=position, camera=camera)
    DashboardSlot.objects.create(layout=layout, position=2, camera=yard)
    html = operator_client.get("/live/").content.decode()
    assert "--cols: 3" in html
    assert tiles(html) == [
        ("gate", "grid-row: 1 / span 2; grid-column: 1 / span 2"),
        ("yard", "grid-row: 1 / span 1; grid-column: 3 / span 1"),
        ("empty", "grid-row: 2; grid-column: 3"),
    ]
    # Tiles play the sub-stream where a camera has one; full screen, the main stream.
    assert html.count('data-socket="/ws/live/gate/?stream=sub" data-socket-main="/ws/live/gate/"') == 1
    assert html.count('data-socket="/ws/live/yard/" data-socket-main="/ws/live/yard/"') == 1


def test_scattered_slots_show_the_camera_in_each(operator_client, camera):
    layout = DashboardLayout.objects.create(name="Twice", columns=2, rows=2)
    DashboardSlot.objects.create(layout=layout, position=0, camera=camera)
    DashboardSlot.objects.create(layout=layout, position=3, camera=camera)
    html = operator_client.get(f"/live/layouts/{layout.pk}/").content.decode()
    assert [t[0] for t in tiles(html)] == ["gate", "empty", "empty", "gate"]


def test_without_a_layout_every_enabled_camera_is_shown(operator_client, camera):
    save_camera(Camera(name="Off", slug="off", stream_url="rtsp://192.0.2.12/main", enabled=False))
    save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main"))
    html = operator_client.get("/live/").content.decode()
    assert [t[0] for t in tiles(html)] == ["gate", "yard"]
    assert "rtsp://" not in html  # stream URLs, let alone credentials, never reach the page


def test_the_layouts_overlay_setting_is_the_toggles_start(operator_client, camera):
    DashboardLayout.objects.create(name="Quiet", columns=1, rows=1, is_default=True, show_ai_overlay=False)
    html = operator_client.get("/live/").content.decode()
    assert 'data-overlay-toggle aria-pressed="false"' in html


def test_an_unknown_layout_is_404(operator_client, db):
    assert operator_client.get("/live/layouts/999/").status_code == 404
