"""The /metrics answer: every process's multiprocess files, plus what is computed at
scrape time (disk space, camera states)."""

from __future__ import annotations

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from ops import selectors


class ScrapeTimeCollector:
    def collect(self):
        values = selectors.scrape_values()
        free = GaugeMetricFamily("ainvr_disk_free_bytes", "Free space of a data disk.", labels=["disk", "path"])
        total = GaugeMetricFamily("ainvr_disk_total_bytes", "Size of a data disk.", labels=["disk", "path"])
        for disk in values["disks"]:
            free.add_metric([disk.key, disk.path], disk.free)
            total.add_metric([disk.key, disk.path], disk.total)
        online = GaugeMetricFamily(
            "ainvr_camera_online", "1 when the camera's workers see it online (enabled cameras).", labels=["camera"]
        )
        fps = GaugeMetricFamily("ainvr_camera_fps", "Frame rate the camera sends, as last seen.", labels=["camera"])
        for slug, enabled, state, camera_fps in values["cameras"]:
            if enabled:
                online.add_metric([slug], 1.0 if state == "online" else 0.0)
                if camera_fps is not None:
                    fps.add_metric([slug], camera_fps)
        yield from (free, total, online, fps)


def render() -> bytes:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.PROMETHEUS_MULTIPROC_DIR))
    registry.register(ScrapeTimeCollector())
    return generate_latest(registry)
