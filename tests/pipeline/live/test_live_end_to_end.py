"""Live video end to end: a real RTSP camera, the capture worker's relay, the Redis channel
layer, and a browser's socket receiving fMP4 that a decoder plays."""

from __future__ import annotations

import asyncio
import io
import json
import time

import av
import pytest
import redis
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from ainvr.asgi import application
from cameras.models import Camera
from cameras.probe import open_stream
from cameras.services import save_camera
from pipeline.capture import CaptureWorker, StatusReporter
from pipeline.live.channel import RedisLiveChannel, watch_key
from pipeline.live.relay import LiveRelay, split_boxes
from pipeline.supervisor import camera_spec
from tests.pipeline.live.sockets import TIMEOUT, headers_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def street(make_rtsp_server):
    server = make_rtsp_server(width=640, height=360, fps=15, gop=15)
    camera = save_camera(Camera(name="Street", slug="street", stream_url=server.url()))
    keys = redis.Redis.from_url(settings.REDIS_URL)
    keys.delete(watch_key("street"))
    yield camera
    keys.delete(watch_key("street"))


def test_a_viewer_and_a_late_one_receive_playable_fragmented_mp4_from_a_live_camera(
    street, operator_client, redis_layer, tmp_path
):
    worker = CaptureWorker(
        camera_spec(street),
        recordings_root=tmp_path,
        status=StatusReporter(street.pk, write=lambda *args: None),
        on_segment=lambda *args: None,
        on_disk_full=lambda *args: None,
        live=LiveRelay("street", channel=RedisLiveChannel(settings.REDIS_URL), check_s=0.2),
    )

    def capture_for(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            worker.step()

    async def received_until_quiet(viewer):
        messages = []
        while not await viewer.receive_nothing(timeout=0.5):
            messages.append(await viewer.receive_output(timeout=TIMEOUT))
        return messages

    async def scenario():
        viewer = WebsocketCommunicator(application, "/ws/live/street/", headers=headers_for(operator_client))
        connected, _ = await viewer.connect(timeout=TIMEOUT)
        assert connected
        capture = asyncio.ensure_future(asyncio.to_thread(capture_for, 4.0))
        early = [await viewer.receive_output(timeout=TIMEOUT) for _ in range(20)]  # the first viewer watches
        late_viewer = WebsocketCommunicator(application, "/ws/live/street/", headers=headers_for(operator_client))
        connected, _ = await late_viewer.connect(timeout=TIMEOUT)
        assert connected
        await capture
        early += await received_until_quiet(viewer)
        late = await received_until_quiet(late_viewer)
        await viewer.disconnect()
        await late_viewer.disconnect()
        return early, late

    early, late = async_to_sync(scenario)()
    worker.stop()

    for messages in (early, late):  # the late viewer's video came as a catch-up, then the group's
        texts = [json.loads(m["text"]) for m in messages if m.get("text")]
        binaries = [m["bytes"] for m in messages if m.get("bytes")]
        assert texts[0]["type"] == "init" and texts[0]["codec"].startswith("avc1.")
        assert [box[4:8] for box in split_boxes(bytearray(binaries[0]))] == [b"ftyp", b"moov"]
        with av.open(io.BytesIO(b"".join(binaries)), format="mp4") as container:
            frames = list(container.decode(video=0))
        assert frames[0].key_frame
        assert len(frames) >= 15  # seconds of live video reached the viewer
        assert (frames[0].width, frames[0].height) == (640, 360)
    assert worker.live.catchups_sent == 1


def test_a_grid_tile_receives_the_sub_stream_and_full_screen_the_main(make_rtsp_server, operator_client, redis_layer):
    """A camera with a 1280x720 main stream and a 640x360 sub-stream: ?stream=sub plays the
    sub-stream, relayed by the reader that also feeds AI; the plain socket plays the main."""
    from pipeline.detect_stream import DetectStreamReader

    main = make_rtsp_server(width=1280, height=720, fps=15, gop=15)
    sub = make_rtsp_server(width=640, height=360, fps=15, gop=15)
    camera = save_camera(Camera(name="Yard", slug="yard", stream_url=main.url(), detect_url=sub.url()))
    keys = redis.Redis.from_url(settings.REDIS_URL)
    keys.delete(watch_key("yard"), watch_key("yard.sub"))
    relay = LiveRelay("yard.sub", channel=RedisLiveChannel(settings.REDIS_URL), check_s=0.2)
    reader = DetectStreamReader(camera.detect_url, None, open_source=open_stream, live=relay)

    async def scenario():
        viewer = WebsocketCommunicator(application, "/ws/live/yard/?stream=sub", headers=headers_for(operator_client))
        connected, _ = await viewer.connect(timeout=TIMEOUT)
        assert connected
        reader.start()
        messages = [await viewer.receive_output(timeout=TIMEOUT) for _ in range(20)]
        await viewer.disconnect()
        return messages

    try:
        messages = async_to_sync(scenario)()
    finally:
        reader.stop()
        keys.delete(watch_key("yard"), watch_key("yard.sub"))
    binaries = [m["bytes"] for m in messages if m.get("bytes")]
    with av.open(io.BytesIO(b"".join(binaries)), format="mp4") as container:
        frames = list(container.decode(video=0))
    assert frames and (frames[0].width, frames[0].height) == (640, 360)
