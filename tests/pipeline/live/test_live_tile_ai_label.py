"""The live tile's AI label tells a healthy detector watching a still scene ("AI watching")
from a dead one ("AI down") or one being restarted ("AI restarting"), from the keys the
detectors and their supervisor write (issue 15, item 13). The page shows the state it finds;
runworkers' AiStateTask pushes each change to the dashboards as "camera.ai"."""

from __future__ import annotations

import asyncio
import re

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from cameras.models import Camera
from cameras.services import save_camera
from core.realtime import camera_group
from detection.live_status import AiStateTask
from detection.status import (
    KEY_PREFIX,
    STAGE_PREFIX,
    StageStatus,
    camera_ai_state,
    publish_detector_status,
    publish_stage_statuses,
)

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs the test Redis")
HOST = "nvr-live-test"


@pytest.fixture
def keys():
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clean():
        for prefix in (KEY_PREFIX, STAGE_PREFIX):
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)

    clean()
    yield client
    clean()


def detector(client, pid, cameras):
    """A detector process's own status: nothing detected lately (a still scene)."""
    publish_detector_status(client, host=HOST, pid=pid, detector="onnx cpu", cameras=cameras,
                            metrics={"frames_detected": 0, "frames_gated": 500})  # fmt: skip


def stage(client, state, pid=None):
    status = StageStatus(host=HOST, name="detector-cpu", queue="detection", state=state, pid=pid, since=1.0,
                         updated_at=1.0)  # fmt: skip
    publish_stage_statuses(client, [status])


def label(html: str, slug: str) -> tuple[str, str]:
    tile = re.search(rf'data-camera="{slug}".*?</section>', html, re.S).group(0)
    span = re.search(r'<span class="([^"]*)" data-ai-state="([^"]*)"[^>]*>([^<]*)</span>', tile)
    return span.group(2), span.group(3)


def test_a_healthy_detector_on_a_still_scene_shows_watching(operator_client, camera, keys):
    Camera.objects.filter(pk=camera.pk).update(ai_enabled=True)
    stage(keys, "running", pid=5001)
    detector(keys, 5001, ["gate"])
    assert label(operator_client.get("/live/").content.decode(), "gate") == ("watching", "AI watching")


def test_a_dead_detector_shows_down(operator_client, camera, keys):
    Camera.objects.filter(pk=camera.pk).update(ai_enabled=True)
    assert label(operator_client.get("/live/").content.decode(), "gate") == ("down", "AI down")


def test_a_detector_being_restarted_shows_restarting_though_its_old_key_lingers(operator_client, camera, keys):
    Camera.objects.filter(pk=camera.pk).update(ai_enabled=True)
    detector(keys, 5001, ["gate"])  # written by the process that just died; expires in 15 s
    stage(keys, "restarting")
    assert label(operator_client.get("/live/").content.decode(), "gate") == ("restarting", "AI restarting")


def test_a_camera_without_ai_says_off(operator_client, camera, keys):
    Camera.objects.filter(pk=camera.pk).update(ai_enabled=False)
    assert label(operator_client.get("/live/").content.decode(), "gate")[1] == "AI off"


def test_the_states_from_the_keys():
    running = [StageStatus(HOST, "detector-cpu", "detection", "running", pid=7)]
    watching = [{"host": HOST, "pid": 7, "cameras": ["gate"]}]
    assert camera_ai_state("gate", True, watching, running) == "watching"
    assert camera_ai_state("yard", True, watching, running) == "starting"
    assert camera_ai_state("gate", False, watching, running) == "off"
    assert camera_ai_state("gate", True, [], []) == "down"
    given_up = [StageStatus(HOST, "detector-cpu", "detection", "given_up")]
    assert camera_ai_state("gate", True, watching, given_up) == "down"
    # A detector no supervisor reports (started by hand) is believed.
    assert camera_ai_state("gate", True, [{"host": "elsewhere", "pid": 9, "cameras": ["gate"]}], []) == "watching"


def test_the_dashboards_hear_of_each_change_once(settings, camera, keys, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    Camera.objects.filter(pk=camera.pk).update(ai_enabled=True)
    yard = save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main", ai_enabled=False))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(camera_group("gate"), channel)
    async_to_sync(layer.group_add)(camera_group(yard.slug), channel)

    def run_and_receive(task) -> list[dict]:
        with django_capture_on_commit_callbacks(execute=True):
            task.run()

        async def drain():
            got = []
            while True:
                try:  # what was sent is there at once: a short wait says "nothing more"
                    message = await asyncio.wait_for(layer.receive(channel), 0.3)
                except TimeoutError:
                    return got
                got.append({"event": message["event"], **message["payload"]})

        return async_to_sync(drain)()

    task = AiStateTask()
    stage(keys, "running", pid=5001)
    detector(keys, 5001, ["gate"])
    first = run_and_receive(task)
    assert sorted((m["camera"], m["state"], m["label"]) for m in first) == [
        ("gate", "watching", "AI watching"), ("yard", "off", "AI off"),
    ]  # fmt: skip
    assert {m["event"] for m in first} == {"camera.ai"}
    assert run_and_receive(task) == []  # nothing changed

    stage(keys, "restarting")
    assert [(m["camera"], m["state"]) for m in run_and_receive(task)] == [("gate", "restarting")]
