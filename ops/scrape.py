"""The /metrics answer: every process's multiprocess files, plus what is computed at
scrape time (disk space, camera states, detector and face processes)."""

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
        running = GaugeMetricFamily(
            "ainvr_stage_running",
            "1 when a detector or face recognition process runs; 0 while it is restarting or given up.",
            labels=["host", "stage"],
        )
        restarts = GaugeMetricFamily(
            "ainvr_stage_restarts", "Exits of a stage process since runworkers started.", labels=["host", "stage"]
        )
        for stage in values.get("stages", []):
            if stage.state != "stopped":
                running.add_metric([stage.host, stage.name], 1.0 if stage.state == "running" else 0.0)
                restarts.add_metric([stage.host, stage.name], stage.restarts)
        yield from (free, total, online, fps, running, restarts)


def render() -> bytes:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.PROMETHEUS_MULTIPROC_DIR))
    registry.register(ScrapeTimeCollector())
    return generate_latest(registry)
