"""The live grid page and the alerts feed. Thin: role check, selectors, render."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from cameras.models import DashboardLayout
from detection.live_status import camera_ai_states
from pipeline.live import selectors as live_selectors


@require_GET
@role_required
def grid(request, pk: int | None = None):
    all_layouts = list(live_selectors.layouts())
    layout: DashboardLayout | None
    if pk is not None:
        layout = get_object_or_404(DashboardLayout, pk=pk)
    else:
        layout = all_layouts[0] if all_layouts else None
    columns, rows, tiles = live_selectors.grid_for(layout)
    return render(
        request,
        "live/grid.html",
        {
            "layouts": all_layouts,
            "layout": layout,
            "columns": columns,
            "rows": rows,
            "tiles": tiles,
            "zones": live_selectors.zones_by_camera(tiles),
            "show_overlay": layout.show_ai_overlay if layout else True,
            "ai_states": camera_ai_states(),
        },
    )


@require_GET
@role_required
def alerts(request):
    return JsonResponse(live_selectors.alerts_feed(request.user, with_employee_alerts=request.user.is_admin))
