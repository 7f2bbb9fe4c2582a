"""What the live grid's figures are made of: first frame, glass-to-glass latency (the clock
painted into the test stream, read back from the pixels on screen), the relay's and daphne's
rates and the CPU each part uses. record_latency() writes them to the test artifacts."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

from tests.browser.conftest import ARTIFACTS, CLOCK_SIZE
from tests.support import frame_clock

# A JavaScript function reading the clock painted in a video's current frame (milliseconds, or
# null where no clock reads): tests/support/frame_clock.py's read(), in the browser. The code
# region is drawn at the video's own resolution, whatever size the page shows it at.
CLOCK_READER = """(place, grey, ambiguous) => {
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
  return (video) => {
    ctx.drawImage(video, origin, origin, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let millis = 0;
    for (let row = 0; row < rows; row++) {
      const values = [...Array(columns).keys()].map(column => mean(d, column, row));
      if (values.some(v => Math.abs(v - grey) < ambiguous)) return null;
      if (values[0] < grey || values[columns - 1] > grey) return null;
      for (const v of values.slice(1, -1)) millis = millis * 2 + (v > grey ? 1 : 0);  // 48 bits: no bitwise ops
    }
    return millis;
  };
}"""

GLASS_TO_GLASS = f"""([n, size, place, grey, ambiguous]) => {{
  const read = ({CLOCK_READER})(place, grey, ambiguous);
  return [...document.querySelectorAll('[data-tile]')].slice(0, n).map(tile => {{
    const video = tile.querySelector('video');
    if (video.videoWidth !== size[0] || video.videoHeight !== size[1]) return null;
    const now = Date.now();
    const millis = read(video);
    return millis === null ? null : now - millis;
  }});
}}"""


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

    from pipeline.live.channel import live_group

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
