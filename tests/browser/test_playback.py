"""Playback in a real browser (Debian's chromium through Playwright) against daphne and
runworkers recording the RTSP test server's clock: a click on the timeline or on a detection
lands on its moment, read back from the clock painted in the frame the video shows; playing
across segments and over a gap; the range view."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from tests.browser.conftest import CLOCK_SIZE, wait_for
from tests.browser.measure import CLOCK_READER
from tests.support import frame_clock

# Records, for each seek of the playback video, the frame shown once it completed: its media
# time and the clock painted in it (null where no clock reads).
WATCH_LANDINGS = f"""([place, grey, ambiguous, origin]) => {{
  const read = ({CLOCK_READER})(place, grey, ambiguous);
  const video = document.querySelector('[data-video]');
  window.landings = [];
  // Once a seek completed, the frame shown: read again on the next frames until the picture
  // matches the element's position (a busy machine may still show the old frame when
  // 'seeked' fires), one second at most. `advance` is how far a playing video went on
  // meanwhile, taken off when the landing is judged.
  video.addEventListener('seeked', () => {{
    const position = video.currentTime;
    let tries = 0;
    const look = () => {{
      const millis = read(video);
      const fits = millis !== null && Math.abs(millis - (origin + video.currentTime * 1000)) < 500;
      if (fits || ++tries >= 60) {{
        const advance = video.currentTime - position;
        window.landings.push({{media: position, millis, paused: video.paused, advance}});
        return;
      }}
      requestAnimationFrame(look);
    }};
    look();
  }});
}}"""


# What the player and its video element are doing, for a failure's message.
PLAYER_STATE = """() => {
  const s = window.ainvrPlayback.state(), v = document.querySelector('[data-video]');
  const buffered = [];
  for (let i = 0; i < v.buffered.length; i++) buffered.push([v.buffered.start(i), v.buffered.end(i)]);
  return {target: s.target, loading: s.loading, next: s.next, current: v.currentTime, paused: v.paused,
          seeking: v.seeking, ready: v.readyState, buffered, landings: window.landings};
}"""


def add_recording(site, camera, start, *, clock: bool = False):
    """A 2 s fragmented MP4 for `camera` from `start`, indexed as the recorder does: a moving
    square, or (clock) every frame carrying its own time (tests.media.make_clock_clip)."""
    from recordings.models import Segment
    from tests.media import make_clip, make_clock_clip

    rel = f"{camera.slug}/{start:%Y-%m-%d}/{start:%H-%M-%S}.mp4"
    path = site.data_dir / "recordings" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if clock:
        make_clock_clip(path, start, seconds=2)
    else:
        make_clip(path, seconds=2, fps=10, gop=10, fragmented=True)
    width, height = (320, 180) if clock else (320, 240)
    return Segment.objects.create(
        camera=camera, start=start, end=start + timedelta(seconds=2), duration=2.0, path=rel,
        size_bytes=path.stat().st_size, codec="h264", width=width, height=height,
    )  # fmt: skip


def watch_landings(page, size) -> None:
    """Record each landing of the page's player (WATCH_LANDINGS) for a video of `size`."""
    origin_ms = window_start(page) * 1000
    page.evaluate(WATCH_LANDINGS, [frame_clock.layout(*size), frame_clock.GREY, frame_clock.AMBIGUOUS, origin_ms])


def open_playback(page, camera: str, at: datetime):
    page.console_lines.clear()
    page.goto(f"/playback/?camera={camera}&at={at.isoformat().replace('+', '%2B')}")
    root = page.locator("[data-playback]")
    try:
        wait_for(lambda: root.get_attribute("data-media-time") is not None, 15, "the player started")
    except AssertionError:
        raise AssertionError("\n".join(page.console_lines[-20:]) + page.inner_text("[data-status]")) from None
    return root


def window_start(page) -> float:
    """The wall-clock time (Unix seconds) of the timeline's and the video's time 0."""
    return page.evaluate("() => new Date(window.ainvrPlayback.state().data.start).getTime() / 1000")


def landing_after(page, action, what: str) -> dict:
    """Do `action` (a click), then wait for the frame the video shows once its seek completed."""
    before = page.evaluate("() => window.landings.length")
    action()
    wait_for(lambda: page.evaluate("() => window.landings.length") > before, 15, what)
    # A seek that needs loading may complete twice (at the position, then with its data): the
    # player is settled when no seek is pending and the last landing has a frame with a clock.
    try:
        wait_for(lambda: not page.evaluate("() => window.ainvrPlayback.state().seeking"), 15, f"{what}: settled")
    except AssertionError:
        state = page.evaluate(PLAYER_STATE)
        raise AssertionError(f"{what}: not settled: {state}\n" + "\n".join(page.console_lines[-10:])) from None
    landing = page.evaluate("() => window.landings[window.landings.length - 1]")
    assert landing["millis"] is not None, f"{what}: no clock in the frame shown"
    return landing


def click_timeline_at(page, offset: float) -> float:
    """Click the timeline where it shows `offset` (seconds from the window's start); returns
    the offset that the clicked pixel stands for."""
    box = page.locator("[data-timeline]").bounding_box()
    view = page.evaluate("() => window.ainvrPlayback.state().view")
    x = box["x"] + (offset - view["start"]) / view["length"] * box["width"]
    x = round(x)  # a real pointer lands on a pixel
    assert box["x"] <= x <= box["x"] + box["width"], (offset, view)
    page.mouse.click(x, box["y"] + box["height"] * 0.75)
    return view["start"] + (x - box["x"]) / box["width"] * view["length"]


def land_clicks(page, offsets: list[float], origin: float) -> list[float]:
    """Click the timeline at each offset in turn, the video playing for the 1st, 3rd, ... and
    paused for the others; each landing's error, seconds (the clock in the frame shown minus
    the moment clicked). A paused player must stay paused, a playing one play on."""
    errors = []
    for n, offset in enumerate(offsets):
        page.eval_on_selector("[data-video]", "v => v.pause()" if n % 2 else "v => v.play()")
        clicked: list[float] = []

        def click(offset=offset, clicked=clicked):
            clicked.append(click_timeline_at(page, offset))

        landing = landing_after(page, click, f"click {n} at {offset:.1f}")
        errors.append(landing["millis"] / 1000 - landing["advance"] - (origin + clicked[0]))
        assert landing["paused"] == bool(n % 2)
    return errors


def land_on_detections(page, events) -> list[float]:
    """Click each detection of the day's list; each landing's error, seconds."""
    errors = []
    for event in events:
        link = page.locator(f'[data-day-list] [data-event-id="{event.id}"] a')
        landing = landing_after(page, link.click, f"detection {event.id}")
        errors.append(landing["millis"] / 1000 - landing["advance"] - event.start.timestamp())
    return errors


def test_clicks_on_the_timeline_and_on_detections_land_on_their_moment(operator_page, orm, screenshot):
    """Ten points of the timeline and five detections over four 2 s segments, in both
    directions, while playing and while paused: the clock in the frame shown is within 0.5 s
    of the moment clicked."""
    from detection.models import ObjectEvent
    from recordings.models import Segment

    page = operator_page
    with orm():
        wait_for(lambda: Segment.objects.filter(camera__slug="gate").count() >= 7, 60, "seven segments recorded")
        segments = list(Segment.objects.filter(camera__slug="gate").order_by("start"))[1:6]
    first, last = segments[0].start, segments[-1].end
    root = open_playback(page, "gate", first)
    origin = window_start(page)
    watch_landings(page, CLOCK_SIZE)
    page.click('[data-zoom="60"]')

    span = last.timestamp() - first.timestamp()
    # Forwards and backwards, inside segments and across their boundaries.
    fractions = [0.55, 0.1, 0.9, 0.35, 0.7, 0.05, 0.8, 0.45, 0.2, 0.95]
    errors = land_clicks(page, [first.timestamp() - origin + 0.2 + f * (span - 0.4) for f in fractions], origin)

    screenshot(page, "playback-landed")
    with orm():
        events = [
            ObjectEvent.objects.create(
                camera=segments[0].camera,
                label="person",
                confidence=0.9,
                box=[0.2, 0.2, 0.5, 0.9],
                start=first + timedelta(seconds=0.3 + fraction * (span - 0.6)),
                end=first + timedelta(seconds=0.3 + fraction * (span - 0.6) + 1),
            )
            for fraction in (0.8, 0.1, 0.6, 0.3, 0.95)
        ]
    open_playback(page, "gate", last)
    watch_landings(page, CLOCK_SIZE)
    errors += land_on_detections(page, events)

    absolute = [abs(e) for e in errors]
    print(f"\nplayback landing error, s: median {statistics.median(absolute):.3f}, max {max(absolute):.3f}")
    assert max(absolute) <= 0.5, [round(e, 3) for e in errors]
    assert root.get_attribute("data-media-time") is not None


def test_clicks_far_outside_what_is_loaded_land_on_their_moment(operator_page, site, orm):
    """Recordings a minute apart (the player loads 40 s ahead), each frame carrying its own
    time: clicks and detections jumping forwards and backwards between them, playing and
    paused, land within 0.5 s, and the video goes on playing from there."""
    from django.utils import timezone

    from cameras.models import Camera
    from cameras.services import save_camera
    from detection.models import ObjectEvent

    day = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time()))
    groups = [day + timedelta(hours=14, seconds=s) for s in (0, 75, 150)]  # three runs of 3 segments
    with orm():
        camera = save_camera(Camera(name="Clockwork", slug="clockwork", stream_url="rtsp://192.0.2.3/", enabled=False))
        for first in groups:
            for k in range(3):
                add_recording(site, camera, first + timedelta(seconds=2 * k), clock=True)
    page = operator_page
    open_playback(page, "clockwork", groups[0])
    origin = window_start(page)
    watch_landings(page, (320, 180))
    page.click('[data-zoom="600"]')
    # (group, seconds into its 6 s): forwards and backwards across minutes, and within a run.
    points = [(2, 3.1), (0, 1.2), (1, 4.5), (2, 0.4), (0, 5.2), (1, 0.9), (1, 3.3), (0, 2.6), (2, 5.5), (0, 0.3)]
    errors = land_clicks(page, [groups[group].timestamp() + into - origin for group, into in points], origin)
    # Playing on from the last landing, across the run's segments.
    page.eval_on_selector("[data-video]", "v => v.play()")
    root = page.locator("[data-playback]")
    boundary = groups[0].timestamp() + 2 - origin
    wait_for(lambda: float(root.get_attribute("data-media-time")) > boundary + 0.5, 10, "played on across a boundary")

    with orm():
        events = [
            ObjectEvent.objects.create(
                camera=camera,
                label="person",
                confidence=0.9,
                box=[0.2, 0.2, 0.5, 0.9],
                start=groups[group] + timedelta(seconds=into),
                end=groups[group] + timedelta(seconds=into + 1),
            )  # fmt: skip
            for group, into in [(2, 4.0), (0, 1.5), (1, 2.2), (0, 4.4), (2, 0.7)]
        ]
    open_playback(page, "clockwork", groups[1])
    watch_landings(page, (320, 180))
    errors += land_on_detections(page, events)

    absolute = [abs(e) for e in errors]
    print(f"\nplayback landing, far apart: error median {statistics.median(absolute):.3f} s, max {max(absolute):.3f} s")
    assert max(absolute) <= 0.5, [round(e, 3) for e in errors]

    # Hovering the timeline shows the recording of that moment: its keyframe at or before it.
    hovered = groups[2].timestamp() + 3.5 - origin
    box = page.locator("[data-timeline]").bounding_box()
    view = page.evaluate("() => window.ainvrPlayback.state().view")
    x = (hovered - view["start"]) / view["length"] * box["width"]
    page.hover("[data-timeline]", position={"x": x, "y": box["height"] * 0.75})
    preview = page.locator("[data-preview] img")
    try:
        wait_for(lambda: preview.evaluate("i => i.complete && i.naturalWidth > 0"), 10, "the preview shown")
    except AssertionError:
        state = page.evaluate(
            "() => { const b = document.querySelector('[data-preview]');"
            " return b && [b.hidden, b.dataset.offset, b.querySelector('img').src]; }"
        )
        raise AssertionError(
            f"no preview: {state}, hovered {hovered}\n" + "\n".join(page.console_lines[-10:])
        ) from None
    at = float(page.get_attribute("[data-preview]", "data-offset")) + origin
    painted = page.evaluate(
        f"([place, grey, ambiguous]) => ({CLOCK_READER})(place, grey, ambiguous)"
        "(document.querySelector('[data-preview] img'))",
        [frame_clock.layout(320, 180), frame_clock.GREY, frame_clock.AMBIGUOUS],
    )
    assert painted is not None, "the preview carries the recording's clock"
    assert at - 2.1 <= painted / 1000 <= at + 0.1, painted / 1000 - at
    assert page.inner_text("[data-preview] span")


# The share of the rows of a vertical strip (x, y1..y2 in the video's picture, 0..1) where the
# boxes canvas holds a red pixel: the left side of a person's box drawn there.
RED_ROWS = """([x, y1, y2]) => {
  const video = document.querySelector('[data-video]');
  const canvas = document.querySelector('[data-boxes]');
  const ratio = canvas.width / canvas.clientWidth;
  const cw = canvas.clientWidth, ch = canvas.clientHeight;
  const scale = Math.min(cw / video.videoWidth, ch / video.videoHeight);
  const w = video.videoWidth * scale, h = video.videoHeight * scale;
  const px = Math.round(((cw - w) / 2 + x * w) * ratio), top = Math.round(((ch - h) / 2 + y1 * h) * ratio);
  const rows = Math.round((y2 - y1) * h * ratio);
  const d = canvas.getContext('2d').getImageData(px - 3, top, 7, rows).data;
  let red = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 7; c++) {
      const i = 4 * (r * 7 + c);
      if (d[i + 3] > 128 && d[i] > 180 && d[i + 1] < 100 && d[i + 2] < 100) { red++; break; }
    }
  }
  return red / rows;
}"""


def test_the_stored_boxes_are_drawn_over_the_recording_where_the_object_was(operator_page, orm):
    """A person's path from the left (x 0.1) to the right (x 0.6) over 4 s: paused halfway,
    its box is drawn where it was then, not where it started; the button takes it away."""
    from detection.models import ObjectEvent
    from recordings.models import Segment

    page = operator_page
    with orm():
        wait_for(lambda: Segment.objects.filter(camera__slug="gate").count() >= 4, 60, "four segments recorded")
        seg = list(Segment.objects.filter(camera__slug="gate").order_by("start"))[2]
        event = ObjectEvent.objects.create(
            camera=seg.camera,
            label="person",
            confidence=0.9,
            box=[0.1, 0.2, 0.3, 0.8],
            start=seg.start,
            end=seg.start + timedelta(seconds=4),
            path=[[0, 0.1, 0.2, 0.3, 0.8], [4, 0.6, 0.2, 0.8, 0.8]],
        )
    open_playback(page, "gate", seg.start + timedelta(seconds=2))
    page.eval_on_selector("[data-video]", "v => v.pause()")
    page.click("[data-boxes-toggle]")
    wait_for(lambda: page.get_attribute("[data-boxes]", "data-drawn") == "1", 10, "the box drawn")
    into = page.eval_on_selector("[data-video]", "v => v.currentTime") - (event.start.timestamp() - window_start(page))
    assert 0.5 < into < 3.5
    left = 0.1 + 0.5 * into / 4
    assert page.evaluate(RED_ROWS, [left, 0.25, 0.75]) > 0.9
    assert page.evaluate(RED_ROWS, [0.1 if left > 0.2 else 0.6, 0.25, 0.75]) == 0
    page.click("[data-boxes-toggle]")
    wait_for(lambda: page.get_attribute("[data-boxes]", "data-drawn") == "0", 5, "the box taken away")
    assert page.evaluate(RED_ROWS, [left, 0.25, 0.75]) == 0


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
    root = open_playback(page, "gate", first)
    marker = page.locator(f'[data-marker="{event.id}"]')
    marker.wait_for(timeout=15_000)
    origin = window_start(page)
    event_offset = event.start.timestamp() - origin
    boundary = following.start.timestamp() - origin

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


def test_playback_jumps_over_a_gap_in_the_recording(operator_page, site, orm):
    """Files written here (not by runworkers) so the gap is exact: 0-2 s, 2-4 s, then 7-9 s."""
    from django.utils import timezone

    from cameras.models import Camera
    from cameras.services import save_camera

    start = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time()))
    start += timedelta(hours=10)
    with orm():
        archive = save_camera(Camera(name="Archive", slug="archive", stream_url="rtsp://192.0.2.1/", enabled=False))
        for at in (0, 2, 7):
            add_recording(site, archive, start + timedelta(seconds=at))
    page = operator_page
    root = open_playback(page, "archive", start)
    after_gap = start.timestamp() + 7 - window_start(page)
    wait_for(lambda: float(root.get_attribute("data-media-time")) > after_gap + 0.5, 20, "played past the gap")
    assert page.inner_text("[data-status]") == "3 recordings"


def test_two_busy_hours_keep_the_playback_page_light(operator_page, site, orm):
    """Two hours of a busy camera, an object every 3 s (2,400 detections): the page loads in
    bounded time and DOM, the timeline merges what is too close to tell apart and the side
    list shows a page at a time."""
    import time

    from django.utils import timezone

    from cameras.models import Camera
    from cameras.services import save_camera
    from detection.models import ObjectEvent

    start = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time()))
    start += timedelta(hours=12)
    with orm():
        busy = save_camera(Camera(name="Busy", slug="busy", stream_url="rtsp://192.0.2.2/", enabled=False))
        add_recording(site, busy, start)
        ObjectEvent.objects.bulk_create(
            ObjectEvent(
                camera=busy,
                label=("person", "car")[i % 2],
                confidence=0.8,
                box=[0.1, 0.1, 0.3, 0.6],
                start=start + timedelta(seconds=3 * i),
                end=start + timedelta(seconds=3 * i + 2),
            )
            for i in range(2400)
        )
    page = operator_page
    began = time.monotonic()
    open_playback(page, "busy", start)
    wait_for(lambda: page.locator("[data-day-list] li").count() == 20, 15, "the first page of detections")
    load_s = time.monotonic() - began
    nodes = page.evaluate("() => document.getElementsByTagName('*').length")
    markers = page.locator("[data-timeline] .marker").count()
    print(f"\nplayback, 2 h of a busy camera: {nodes} DOM nodes, {markers} markers, page shown in {load_s:.2f} s")
    assert nodes < 1500
    assert 0 < markers <= 250
    assert page.inner_text("[data-day-count]") == "1–20 of 2400"
    first = page.locator("[data-day-list] li").first.get_attribute("data-event-id")
    page.click('[data-day-page="1"]')
    assert page.inner_text("[data-day-count]") == "21–40 of 2400"
    assert page.locator("[data-day-list] li").first.get_attribute("data-event-id") != first
    assert page.locator("[data-day-list] li").count() == 20
