"""The operator's pages in a real browser (Debian's chromium through Playwright), against
daphne, runworkers and an RTSP test server: live video with AI boxes, playback across
segments from a detection marker, the admin refused, an analysis job followed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path

from tests.browser.conftest import ARTIFACTS, CLOCK_SIZE, wait_for
from tests.support import frame_clock

# Pixels of the tile's canvas that something was drawn on.
PAINTED_PIXELS = """(el) => {
  const c = el.querySelector('canvas');
  if (!c.width || !c.height) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
  return n;
}"""


# A person's label among the boxes drawn, and the box really painted on the canvas.
PERSON_BOX_DRAWN = f"el => (el.dataset.labels || '').includes('person') && ({PAINTED_PIXELS})(el) > 500"


# Glass-to-glass latency of the first n tiles, in ms, from the pixels they show: the clock the
# RTSP server painted into each frame before encoding (tests/support/frame_clock.py, whose
# read() this mirrors) against Date.now() when the frame is drawn; null where no clock reads.
# The code region is drawn at the video's own resolution, whatever size the tile shows it at.
GLASS_TO_GLASS = """([n, size, place, grey, ambiguous]) => {
  const {origin, block, rows, columns} = place;
  const canvas = document.createElement('canvas');
  canvas.width = columns * block;
  canvas.height = rows * block;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const mean = (d, column, row) => {
    let sum = 0, count = 0;
    for (let y = row * block + block / 4; y < row * block + 3 * block / 4; y++)
      for (let x = column * block + block / 4; x < column * block + 3 * block / 4; x++) {
        const i = 4 * (y * canvas.width + x);
        sum += d[i] + d[i + 1] + d[i + 2];
        count += 3;
      }
    return sum / count;
  };
  return [...document.querySelectorAll('[data-tile]')].slice(0, n).map(tile => {
    const video = tile.querySelector('video');
    if (video.videoWidth !== size[0] || video.videoHeight !== size[1]) return null;
    ctx.drawImage(video, origin, origin, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
    const now = Date.now();
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let millis = 0;
    for (let row = 0; row < rows; row++) {
      const values = [...Array(columns).keys()].map(column => mean(d, column, row));
      if (values.some(v => Math.abs(v - grey) < ambiguous)) return null;
      if (values[0] < grey || values[columns - 1] > grey) return null;
      for (const v of values.slice(1, -1)) millis = millis * 2 + (v > grey ? 1 : 0);  // 48 bits: no bitwise ops
    }
    return now - millis;
  });
}"""


def glass_to_glass(page, n: int) -> list[int | None]:
    """Milliseconds from the frame's making (before encoding) to its showing, per tile."""
    place = frame_clock.layout(*CLOCK_SIZE)
    return page.evaluate(GLASS_TO_GLASS, [n, CLOCK_SIZE, place, frame_clock.GREY, frame_clock.AMBIGUOUS])


def session_cpu_seconds(session: int) -> float:
    """CPU time (user + system) of the live processes of a session (a process started with
    start_new_session: the session id is its pid)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session:  # fields after the name: state ppid pgrp session ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def live_backlog() -> int:
    """Messages waiting in Redis for the daphne process (its channel layer's process channel):
    grows when daphne cannot forward fragments as fast as the relays publish them."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    return max((client.zcard(k) for k in client.scan_iter(match="asgi:specific.*!", count=1000)), default=0)


def descendants_cpu_seconds(root: int, exclude: set[int]) -> float:
    """CPU time of the live descendants of process `root`, except those in the sessions
    `exclude` (here: the browser, which Playwright started under pytest)."""
    tick = os.sysconf("SC_CLK_TCK")
    rows = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        rows[int(stat.parent.name)] = (int(fields[1]), int(fields[3]), int(fields[11]) + int(fields[12]))
    total = 0
    for pid, (_, session, ticks) in rows.items():
        parent = pid
        while parent in rows and parent != root:
            parent = rows[parent][0]
        if parent == root and pid != root and session not in exclude:
            total += ticks
    return total / tick


def relay_rate(slug: str, seconds: float) -> float:
    """Fragments a second the camera's relay publishes, counted by a viewer of its own on
    the channel layer (not through daphne). Call it from a thread of its own (Playwright
    keeps an event loop in the test's)."""
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    from cameras.live_channel import live_group

    counted = []

    async def count():
        layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
        inbox = await layer.new_channel()
        await layer.group_add(live_group(slug), inbox)
        n, deadline = 0, time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(layer.receive(inbox), left)
            except TimeoutError:
                break
            n += message["type"] == "live.fragment"
        await layer.group_discard(live_group(slug), inbox)
        await layer.close_pools()  # never flush(): it deletes every group of the site
        counted.append(n / seconds)

    asyncio.run(count())
    return round(counted[0], 1) if counted else -1.0


def in_background(page, **calls) -> dict:
    """Run the calls (name=(function, *args)) in threads while Playwright keeps reading the
    browser's events: the page's WebSocket frames reach Playwright too, and a test thread that
    blocks (time.sleep, join) stops that reading and with it, soon, the browser's sockets."""
    results = {}

    def run(name, function, *args):
        try:
            results[name] = function(*args)
        except Exception as e:  # a figure that could not be measured says why
            results[name] = f"{e.__class__.__name__}: {e}"

    threads = [threading.Thread(target=run, args=(name, *call), daemon=True) for name, call in calls.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return results


def socket_rate(site, cookies: list[dict], slug: str, seconds: float) -> float:
    """Binary messages a second that daphne sends on /ws/live/<slug>/ to a bare WebSocket
    client (no video decoding, no page): tells daphne's share from the browser's."""
    import base64
    import socket
    import struct

    host, port = site.url.removeprefix("http://").split(":")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
    conn = socket.create_connection((host, int(port)), timeout=5)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        conn.sendall(
            f"GET /ws/live/{slug}/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {site.url}\r\n"
            f"Cookie: {cookie}\r\n\r\n".encode()
        )
        stream = conn.makefile("rb")
        if b" 101 " not in stream.readline():
            return -1.0
        while stream.readline() not in (b"\r\n", b""):
            pass
        binaries, deadline, started = 0, time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            head = stream.read(2)
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", stream.read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", stream.read(8))[0]
            stream.read(length)
            if head[0] & 0x0F == 2:
                if started is None:  # after the init segment: count from the first fragment
                    started, deadline = time.monotonic(), time.monotonic() + seconds
                else:
                    binaries += 1
        return round(binaries / (time.monotonic() - started), 1) if started else 0.0
    finally:
        conn.close()


def record_latency(page, n: int, name: str, site=None) -> dict:
    """First frame and latency of the n tiles on the page, written to the artifacts, with
    where the time goes: the daphne process's backlog in Redis and the site's CPU use."""
    tiles = page.locator("[data-tile]")
    first_frames = [int(tiles.nth(i).get_attribute("data-first-frame-ms")) for i in range(n)]
    steps = [
        {step: int(tiles.nth(i).get_attribute(f"data-{step}-ms") or -1) for step in ("open", "init", "media")}
        for i in range(n)
    ]
    latencies, behind, queued, glass = [], [], [], []
    for _ in range(10):
        glass += glass_to_glass(page, n)
        for i in range(n):
            latencies.append(int(tiles.nth(i).get_attribute("data-latency-ms")))
            behind.append(int(tiles.nth(i).get_attribute("data-behind-ms") or 0))
            queued.append(int(tiles.nth(i).get_attribute("data-queued") or 0))
        page.wait_for_timeout(500)
    start_count = sum(int(tiles.nth(i).get_attribute("data-fragments") or 0) for i in range(n))
    sessions = {"runworkers": site.processes[0].pid, "daphne": site.processes[-1].pid} if site else {}
    cpu_before = {k: session_cpu_seconds(pid) for k, pid in sessions.items()}
    browser_before = descendants_cpu_seconds(os.getpid(), set(sessions.values()))
    busy_before = machine_busy_seconds()
    started = time.monotonic()
    backlog = []
    for _ in range(6):
        backlog.append(live_backlog())
        page.wait_for_timeout(500)
    elapsed = time.monotonic() - started
    browser_cpu = round(100 * (descendants_cpu_seconds(os.getpid(), set(sessions.values())) - browser_before) / elapsed)
    rate = (sum(int(tiles.nth(i).get_attribute("data-fragments") or 0) for i in range(n)) - start_count) / elapsed
    slug = tiles.nth(n - 1).get_attribute("data-camera")
    rates = (
        in_background(
            page,
            published=(relay_rate, slug, 3.0),
            bare_socket=(socket_rate, site, page.context.cookies(), slug, 3.0),
        )
        if site
        else {}
    )
    published, bare_socket = rates.get("published"), rates.get("bare_socket")
    cpu = {
        f"{k}_cpu_percent": round(100 * (session_cpu_seconds(pid) - cpu_before[k]) / elapsed)
        for k, pid in sessions.items()
    }
    latencies.sort()
    behind.sort()
    read = sorted(ms for ms in glass if ms is not None)
    result = {
        "tiles": n,
        "first_frame_ms": sorted(first_frames),
        "first_frame_steps_ms": sorted(
            ({**step, "shown": shown} for step, shown in zip(steps, first_frames, strict=True)),
            key=lambda step: step["shown"],
        ),
        "glass_to_glass_ms_median": read[len(read) // 2] if read else None,
        "glass_to_glass_ms_p90": read[int(len(read) * 0.9)] if read else None,
        "glass_to_glass_samples": len(glass),
        "glass_to_glass_unreadable": len(glass) - len(read),
        "relay_latency_ms_median": latencies[len(latencies) // 2],
        "relay_latency_ms_p90": latencies[int(len(latencies) * 0.9)],
        "player_behind_newest_ms_median": behind[len(behind) // 2],
        "fragments_waiting_max": max(queued),
        "fragments_received_per_s_per_tile": round(rate / n, 1),  # the camera sends 15
        "daphne_backlog_in_redis_max": max(backlog),
        f"relay_fragments_published_per_s_{slug}": published,
        f"bare_socket_fragments_per_s_{slug}": bare_socket,
        **cpu,
        "browser_cpu_percent": browser_cpu,
        "machine_cpu_percent_of_one_core": round(100 * (machine_busy_seconds() - busy_before) / elapsed),
        "load_average": os.getloadavg()[0],
        "note": "first frame: page start to the video's first 'playing' (steps: socket open, init and first "
        "video received, shown); glass_to_glass: the browser's Date.now() when it draws the tile's video "
        "into a canvas minus the Unix ms the RTSP test server painted into that frame before encoding "
        "(camera encoding, RTSP, capture, relay, daphne, MSE and decoding all included; the same machine's "
        "clock on both ends), each tile sampled 10 times 0.5 s apart; relay_latency: wall clock minus the "
        "arrival time at the relay of the frame on screen (init epoch + currentTime), camera encoding and "
        "RTSP excluded; player_behind: newest buffered video minus currentTime; daphne_backlog: messages waiting "
        "in Redis for the daphne process; cpu: of one core, this site's processes (the machine's 2 vCPUs "
        "are shared with other test runs)",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(result, indent=2))
    print(name, json.dumps(result))
    return result


def video_time(page, selector: str) -> float:
    return page.eval_on_selector(selector, "v => v.currentTime")


def test_the_live_grid_plays_for_the_operator(operator_page, screenshot, site):
    page = operator_page
    assert page.url.endswith("/live/")
    tile = page.locator('[data-tile][data-camera="gate"]')
    try:
        tile.locator("video").wait_for()
        wait_for(lambda: tile.get_attribute("data-state") == "playing", 40, "the gate tile plays")
    except AssertionError:
        raise AssertionError(site.log_tail()) from None
    first = video_time(page, '[data-camera="gate"] video')
    wait_for(lambda: video_time(page, '[data-camera="gate"] video') > first + 1.0, 10, "currentTime advances")
    assert page.locator("[data-camera-state]").first.inner_text() == "Online"
    screenshot(page, "live-grid")
    tile.locator("[data-fullscreen]").click()
    wait_for(lambda: page.evaluate("document.fullscreenElement?.dataset.camera") == "gate", 5, "full screen")
    tile.locator("[data-fullscreen]").click()
    wait_for(lambda: page.evaluate("document.fullscreenElement") is None, 5, "back from full screen")
    record_latency(page, 1, "live-1-tile.json", site)


def test_the_detector_draws_boxes_on_the_camera_with_people_and_the_toggle_hides_them(operator_page, screenshot, site):
    """The real pipeline: the lobby camera streams the demo clip of people, runworkers'
    detector (the default onnx CenterNet) finds them, and the tile draws their boxes."""
    page = operator_page
    page.goto("/live/")
    tile = page.locator('[data-tile][data-camera="lobby"]')
    try:
        wait_for(lambda: tile.get_attribute("data-state") == "playing", 40, "the lobby tile plays")
        # Read together: between the photos of people the clip shows a pagoda, and no box.
        wait_for(
            lambda: tile.evaluate(PERSON_BOX_DRAWN),
            60,
            "a person's box drawn over the video",
        )
    except AssertionError:
        raise AssertionError(site.log_tail()) from None
    assert re.fullmatch(r"AI \d+ ms", tile.locator("[data-ai-state]").inner_text())
    screenshot(page, "live-overlay")
    page.click("[data-overlay-toggle]")
    assert page.get_attribute("[data-overlay-toggle]", "aria-pressed") == "false"
    wait_for(lambda: tile.get_attribute("data-boxes") == "0", 5, "boxes hidden")
    assert tile.evaluate(PAINTED_PIXELS) == 0
    page.click("[data-overlay-toggle]")
    wait_for(lambda: int(tile.get_attribute("data-boxes") or 0) >= 1, 30, "boxes back")


def broadcast(event: str, payload: dict) -> None:
    """ainvr.realtime.send_now from a thread of its own: async_to_sync refuses to run in
    the thread where Playwright keeps its event loop."""
    from ainvr.realtime import ALERTS_GROUP, send_now

    thread = threading.Thread(target=send_now, args=(ALERTS_GROUP, event, payload))
    thread.start()
    thread.join(10)


def test_alerts_arrive_on_the_badge_and_link_to_their_moment_in_playback(admin_page, screenshot):
    page = admin_page
    page.goto("/live/")
    page.wait_for_function("() => document.querySelector('[data-alerts]') !== null")
    started = "2026-03-10T10:42:00+01:00"
    payload = {
        "id": 41, "kind": "absence", "employee": "Eve Example", "camera": "gate", "started": started,
        "resolved": None, "message": "Eve Example away for 20 minutes", "url": None,
    }  # fmt: skip
    # The dashboard socket may still be connecting: send until the badge counts it.
    wait_for(lambda: broadcast("alert.created", payload) or page.is_visible("[data-alerts-badge]"), 10,
             "the badge shows the new alert")  # fmt: skip
    assert page.inner_text("[data-alerts-badge]") == "1"
    page.click("[data-alerts-button]")
    link = page.locator('[data-alerts-list] li[data-key="alert-41"] a')
    assert link.inner_text() == "Eve Example away for 20 minutes"
    assert link.get_attribute("href") == "/playback/?camera=gate&at=2026-03-10T10%3A42%3A00%2B01%3A00"
    assert not page.is_visible("[data-alerts-badge]")  # opening the menu marks them seen
    screenshot(page, "alerts-menu")
    broadcast("alert.resolved", {**payload, "resolved": "2026-03-10T10:50:00+01:00"})
    page.locator('li[data-key="alert-41"].resolved').wait_for(timeout=5000)
    page.keyboard.press("Escape")
    assert page.is_hidden("[data-alerts-menu]")


def test_the_operator_cannot_open_the_admin(operator_page, screenshot):
    page = operator_page
    assert page.locator("#main-nav a", has_text="Settings").count() == 0
    response = page.goto("/admin/")
    assert response.status == 403
    screenshot(page, "operator-admin-refused")


def test_playback_seeks_to_a_detection_marker_and_plays_across_a_segment_boundary(operator_page, screenshot, orm):
    from detection.models import ObjectEvent
    from recordings.models import Segment

    page = operator_page
    with orm():
        wait_for(lambda: Segment.objects.filter(camera__slug="gate").count() >= 5, 60, "five segments recorded")
        segments = list(Segment.objects.filter(camera__slug="gate").order_by("start"))
        target, following = segments[1], segments[2]
        event = ObjectEvent.objects.create(
            camera=target.camera,
            label="person",
            confidence=0.9,
            box=[0.2, 0.2, 0.5, 0.9],
            start=target.start + timedelta(seconds=0.5),
            end=target.start + timedelta(seconds=3.5),
        )
        first = segments[0].start
    page.console_lines.clear()
    page.goto(f"/playback/?camera=gate&at={first.isoformat().replace('+', '%2B')}")
    marker = page.locator(f'[data-marker="{event.id}"]')
    try:
        marker.wait_for(timeout=15_000)
    except Exception:
        raise AssertionError("\n".join(page.console_lines[-20:]) + page.inner_text("[data-status]")) from None
    wait_for(lambda: page.get_attribute("[data-playback]", "data-media-time") is not None, 15, "the player started")
    root = page.locator("[data-playback]")
    window_start = page.evaluate("() => new Date(window.ainvrPlayback.state().data.start).getTime() / 1000")
    event_offset = event.start.timestamp() - window_start
    boundary = following.start.timestamp() - window_start

    marker.click()
    wait_for(
        lambda: event_offset - 0.2 <= float(root.get_attribute("data-media-time")) <= event_offset + 1.5,
        10,
        "seeked to the marker",
    )
    wait_for(lambda: "person" in page.inner_text("[data-now-list]"), 5, "the detection listed beside the video")
    screenshot(page, "playback-marker")
    wait_for(lambda: float(root.get_attribute("data-media-time")) > boundary + 1.0, 15, "played across the boundary")
    assert not page.eval_on_selector("[data-video]", "v => v.paused")
    page.click('[data-speed="2"]')
    assert page.eval_on_selector("[data-video]", "v => v.playbackRate") == 2


def test_an_analysis_job_submitted_in_the_form_runs_to_100_percent_and_shows_its_results(
    operator_page, screenshot, orm, site
):
    """The real job: the form enqueues it, the site's `rqworker analysis` runs the detector
    over the lobby camera's recorded segments, the bar follows it to 100 % and the results
    page shows the report and the annotated video, which plays."""
    from django.utils import timezone

    from detection.models import AnalysisJob, JobStatus
    from recordings.models import Segment

    page = operator_page
    with orm():
        wait_for(lambda: Segment.objects.filter(camera__slug="lobby").count() >= 6, 60, "six lobby segments")
        segments = list(Segment.objects.filter(camera__slug="lobby").order_by("start")[:6])
    moment = "%Y-%m-%dT%H:%M:%S"
    start = timezone.localtime(segments[0].start).strftime(moment)
    end = timezone.localtime(segments[-1].end).strftime(moment)
    page.goto("/analysis/")
    page.select_option("#id_camera", "lobby")
    page.fill("#id_start", start)
    page.fill("#id_end", end)
    page.select_option("#id_classes", ["person", "car"])
    page.fill("#id_confidence", "0.4")
    page.fill("#id_sample_fps", "2")
    screenshot(page, "analysis-form")
    page.click("[data-analysis-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/analysis/\d+/$"))
    with orm():
        job = AnalysisJob.objects.get()
        assert (job.classes, job.confidence, job.sample_fps) == (["person", "car"], 0.4, 2.0)
    progress = page.locator("[data-progress]")
    try:
        wait_for(lambda: int(progress.get_attribute("value")) > 0, 120, "the bar moves")
        screenshot(page, "analysis-progress")
        wait_for(lambda: progress.get_attribute("value") == "100", 240, "the bar at 100 %")
        page.locator("[data-report]").wait_for(timeout=20_000)
    except Exception:
        with orm():
            job.refresh_from_db()
        raise AssertionError(f"job {job.status} {job.progress} {job.error}\n{site.log_tail()}") from None
    with orm():
        job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.report["frames_analysed"] > 0
    report = page.inner_text("[data-report]")
    assert str(job.report["frames_analysed"]) in report
    assert job.annotated_video
    # The clip shows people: the report counts them, and their events are listed.
    assert job.report["counts"].get("person", 0) > 0, job.report["counts"]
    assert page.locator("[data-chart] rect").count() >= 1
    assert page.locator("[data-events] figure").count() >= 1
    video = "[data-annotated]"
    wait_for(lambda: page.eval_on_selector(video, "v => v.readyState") >= 1, 10, "the video's metadata")
    assert page.eval_on_selector(video, "v => v.duration") > 1.0
    page.eval_on_selector(video, "v => { v.muted = true; return v.play(); }")
    wait_for(lambda: page.eval_on_selector(video, "v => v.currentTime") > 0.5, 10, "the annotated video plays")
    screenshot(page, "analysis-results")


def test_the_range_view_answers_206_through_the_real_server(operator_page, site, orm):
    from recordings.models import Segment

    with orm():
        segment = Segment.objects.filter(camera__slug="gate").order_by("start").first()
    data = (site.data_dir / "recordings" / segment.path).read_bytes()
    response = operator_page.request.get(f"/recordings/segments/{segment.pk}/", headers={"Range": "bytes=10-109"})
    assert response.status == 206
    assert response.body() == data[10:110]
    assert response.headers["content-range"] == f"bytes 10-109/{len(data)}"
    refused = operator_page.request.get("/recordings/files/gate/%2e%2e/%2e%2e/%2e%2e/ainvr.sqlite3")
    assert refused.status == 404


def test_first_frame_and_latency_with_eight_tiles(browser, site, orm, screenshot):
    """Measured, not asserted against a target (speed targets belong in bench/): written to
    the artifacts as live-8-tiles.json; glass-to-glass from the clock each tile shows."""
    from cameras.models import Camera, DashboardLayout, DashboardSlot
    from cameras.services import save_camera

    with orm():
        layout = DashboardLayout.objects.create(name="Eight", columns=4, rows=2)
        for i in range(8):
            slug = "gate" if i == 0 else f"cam-{i}"
            camera = Camera.objects.filter(slug=slug).first() or save_camera(
                Camera(name=f"Cam {i}", slug=slug, stream_url=site.rtsp.url(), segment_seconds=10, ai_enabled=False)
            )
            DashboardSlot.objects.create(layout=layout, position=i, camera=camera)
        wait_for(lambda: Camera.objects.filter(status__state="online").count() == 8, 60, "eight cameras online")
    context = browser.new_context(viewport={"width": 1600, "height": 900}, base_url=site.url)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "bob")
    page.fill("#id_password", "correct-horse-battery-staple-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^http://[^/]+/$"))
    page.goto(f"/live/layouts/{layout.pk}/")
    tiles = page.locator("[data-tile]")
    assert tiles.count() == 8
    wait_for(lambda: page.locator('[data-tile][data-state="playing"]').count() == 8, 60, "all eight tiles playing")
    runs = [record_latency(page, 8, "live-8-tiles.json", site)]
    page.wait_for_timeout(10_000)  # seven capture processes just started: measure again once they have settled
    runs.append(record_latency(page, 8, "live-8-tiles-settled.json", site))
    for figures in runs:
        # Every tile shows the clock stream: a clock that cannot be read means the figure is missing.
        assert figures["glass_to_glass_unreadable"] <= figures["glass_to_glass_samples"] // 10, figures
    screenshot(page, "live-8-tiles")
    context.close()


def test_on_a_phone_the_menu_folds_and_the_keyboard_reaches_everything(browser, site, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=site.url, is_mobile=True)
    page = context.new_page()
    page.goto("/login/?next=/live/")
    page.fill("#id_username", "bob")
    page.fill("#id_password", "correct-horse-battery-staple-42")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^[^?]*/live/$"))
    page.wait_for_load_state()
    # Keyboard: the first Tab lands on the skip link, which moves focus past the bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    assert page.is_hidden("#main-nav")
    page.click("[data-nav-toggle]")
    assert page.is_visible("#main-nav a:text('Playback')")
    # The tile is one column wide on a phone.
    box = page.locator("[data-tile]").first.bounding_box()
    assert box["width"] > 300
    screenshot(page, "live-phone")
    context.close()


def test_playback_jumps_over_a_gap_in_the_recording(operator_page, site, orm):
    """Files written here (not by runworkers) so the gap is exact: 0-2 s, 2-4 s, then 7-9 s."""
    from datetime import datetime

    from django.utils import timezone

    from cameras.models import Camera
    from cameras.services import save_camera
    from recordings.models import Segment
    from tests.media import make_clip

    start = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time()))
    start += timedelta(hours=10)
    with orm():
        archive = save_camera(Camera(name="Archive", slug="archive", stream_url="rtsp://192.0.2.1/", enabled=False))
        for at in (0, 2, 7):
            seg_start = start + timedelta(seconds=at)
            rel = f"archive/{seg_start:%Y-%m-%d}/{seg_start:%H-%M-%S}.mp4"
            path = site.data_dir / "recordings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            make_clip(path, seconds=2, fps=10, gop=10, fragmented=True)
            Segment.objects.create(
                camera=archive, start=seg_start, end=seg_start + timedelta(seconds=2), duration=2.0, path=rel,
                size_bytes=path.stat().st_size, codec="h264", width=320, height=240,
            )  # fmt: skip
    page = operator_page
    page.goto(f"/playback/?camera=archive&at={start.isoformat().replace('+', '%2B')}")
    root = page.locator("[data-playback]")
    wait_for(lambda: root.get_attribute("data-media-time") is not None, 15, "the player started")
    origin = page.evaluate("() => new Date(window.ainvrPlayback.state().data.start).getTime() / 1000")
    after_gap = start.timestamp() + 7 - origin
    wait_for(lambda: float(root.get_attribute("data-media-time")) > after_gap + 0.5, 20, "played past the gap")
    assert page.inner_text("[data-status]") == "3 recordings"
