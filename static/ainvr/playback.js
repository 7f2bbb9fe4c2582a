// Playback of a camera's day: its segments are fetched one after the other and appended
// to one Media Source Extensions buffer, each at its own offset from midnight
// (timestampOffset), so the video runs across segment boundaries without a gap and a gap
// in the recording is jumped over. The timeline, the markers and the list beside the
// video all use the same clock: seconds since the window's start.
(function () {
  "use strict";

  const root = document.querySelector("[data-playback]");
  if (!root) return;
  const video = root.querySelector("[data-video]");
  const timelineEl = root.querySelector("[data-timeline]");
  const cursor = root.querySelector("[data-cursor]");
  const hoursEl = root.querySelector("[data-hours]");
  const legend = root.querySelector("[data-legend]");
  const nowList = root.querySelector("[data-now-list]");
  const dayList = root.querySelector("[data-day-list]");
  const statusEl = root.querySelector("[data-status]");
  const clock = root.querySelector("[data-clock]");
  const AHEAD_S = 40;      // keep this much video loaded ahead of the play head
  const BEHIND_S = 60;     // and at most this much behind it

  let data = null;
  let windowStart = 0;     // ms since the epoch
  let mediaSource = null;
  let sb = null;
  let mime = null;
  let next = 0;            // index of the next segment to append
  let generation = 0;      // bumped on every seek that reloads: stale loads stop
  let loading = false;
  let target = null;       // the offset a seek is going to, until it is shown
  let sent = false;        // whether that seek was handed to the video element yet
  let autoplay = true;     // the page's first seek plays

  function say(text) { statusEl.textContent = text; }

  // Times are shown in the server's time zone, like the date picker and the day's midnight.
  const tz = root.dataset.tz || undefined;
  const longFormat = new Intl.DateTimeFormat(undefined, { timeZone: tz, dateStyle: "medium", timeStyle: "medium" });
  const timeFormat = new Intl.DateTimeFormat(undefined, { timeZone: tz, timeStyle: "medium" });
  const hourFormat = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function fmt(offset) {
    return longFormat.format(new Date(windowStart + offset * 1000));
  }

  function waitUpdate() {
    return new Promise((resolve) => {
      if (!sb.updating) return resolve();
      sb.addEventListener("updateend", () => resolve(), { once: true });
    });
  }

  function openSource(firstMime) {
    return new Promise((resolve, reject) => {
      if (!window.MediaSource || !MediaSource.isTypeSupported(firstMime)) {
        reject(new Error("This browser cannot play " + firstMime));
        return;
      }
      mediaSource = new MediaSource();
      video.src = URL.createObjectURL(mediaSource);
      mediaSource.addEventListener("sourceopen", () => {
        mediaSource.duration = data.length;  // media time = seconds from the window's start
        sb = mediaSource.addSourceBuffer(firstMime);
        sb.mode = "segments";
        mime = firstMime;
        resolve();
      }, { once: true });
    });
  }

  function segmentIndexAt(offset) {
    const segs = data.segments;
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].offset + segs[i].duration > offset) return i;
    }
    return -1;
  }

  function bufferedStartAfter(t) {
    for (let i = 0; sb && i < sb.buffered.length; i++) if (sb.buffered.start(i) > t) return sb.buffered.start(i);
    return null;
  }

  function isBuffered(t) {
    for (let i = 0; sb && i < sb.buffered.length; i++) {
      if (sb.buffered.start(i) <= t && t < sb.buffered.end(i) - 0.1) return true;
    }
    return false;
  }

  async function fill(gen) {
    if (loading) return;
    loading = true;
    try {
      while (gen === generation && next < data.segments.length &&
             data.segments[next].offset - head() < AHEAD_S) {
        const seg = data.segments[next];
        const response = await fetch(seg.url, { credentials: "same-origin" });
        if (!response.ok) throw new Error("segment " + seg.id + ": HTTP " + response.status);
        const bytes = await response.arrayBuffer();
        if (gen !== generation) return;
        await waitUpdate();
        if (seg.mime && seg.mime !== mime && sb.changeType) { sb.changeType(seg.mime); mime = seg.mime; }
        sb.timestampOffset = seg.offset;
        sb.appendBuffer(bytes);
        await waitUpdate();
        next += 1;
      }
      // Drop what is far behind, so a long session does not fill the browser's quota.
      const h = head();
      if (gen === generation && sb.buffered.length && h - sb.buffered.start(0) > BEHIND_S * 2) {
        await waitUpdate();
        sb.remove(0, h - BEHIND_S);
        await waitUpdate();
      }
    } catch (e) {
      say("Could not load the recording: " + e.message);
    } finally {
      loading = false;
    }
  }

  // Where the play head is going: a seek's target until a frame there is shown. Loading and
  // trimming measure from it, never from where the video was before the seek.
  function head() { return target == null ? video.currentTime : target; }

  async function seekTo(offset) {
    if (!data || !data.segments.length) return;
    let i = segmentIndexAt(offset);
    if (i < 0) {  // after the last recording: its last seconds
      i = data.segments.length - 1;
      offset = data.segments[i].offset + Math.max(0, data.segments[i].duration - 5);
    }
    offset = Math.max(offset, data.segments[i].offset);
    if (!sb) {
      try { await openSource(data.segments[i].mime || 'video/mp4; codecs="avc1.42E01F"'); }
      catch (e) { say(e.message); return; }
    }
    // The first seek starts playing; later ones keep a paused player paused, on the frame.
    const play = autoplay || !video.paused;
    autoplay = false;
    generation += 1;
    const gen = generation;
    target = offset;
    sent = false;
    if (!isBuffered(offset)) {
      await waitUpdate();
      while (loading) await new Promise((r) => setTimeout(r, 20));
      if (gen !== generation) return;
      if (sb.buffered.length) { sb.remove(0, Infinity); await waitUpdate(); }
      next = i;
    }
    // The media's duration is the whole window (openSource), so the position is never
    // clamped to what happens to be loaded: the seek completes when its segment arrives.
    video.currentTime = offset;
    sent = true;
    await fill(gen);
    if (gen !== generation) return;
    if (!isBuffered(offset)) {
      // A segment's first frame may come a little after its recorded start (or the click fell
      // in a gap): on to what was loaded next, else give up the seek (fill said why).
      const after = bufferedStartAfter(offset);
      if (after != null && after - offset < 1) {
        target = after + 0.001;
        video.currentTime = target;
      } else {
        target = null;
      }
    }
    if (play) video.play().catch(() => {});
  }

  // Done once the element finished the seek this player sent last (an earlier one may end
  // while a new seek waits for its segment).
  video.addEventListener("seeked", () => {
    if (sent && !video.seeking) { target = null; sent = false; }
  });

  // Over a gap (between segments, or in the recording): on to the next buffered range.
  function jumpGaps() {
    if (!sb || video.paused || target != null) return;
    const t = video.currentTime;
    for (let i = 0; i < sb.buffered.length; i++) {
      const start = sb.buffered.start(i), end = sb.buffered.end(i);
      if (t >= start && t < end - 0.25) return;
      if (start > t) { video.currentTime = start + 0.001; return; }
    }
  }

  function eventsAt(t) {
    return data.events.filter((e) => e.offset <= t + 0.5 && (e.end_offset == null ? true : e.end_offset >= t - 0.5));
  }

  function renderNow() {
    const t = video.currentTime;
    root.dataset.mediaTime = t.toFixed(2);
    clock.textContent = fmt(t);
    if (t < view.start || t > view.start + view.length) setZoom(view.length);  // page along
    cursor.style.left = pct(t);
    const now = eventsAt(t);
    const key = now.map((e) => e.id).join(",");
    if (key === nowList.dataset.key) return;
    nowList.dataset.key = key;
    nowList.replaceChildren();
    if (!now.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "Nothing detected.";
      nowList.append(li);
    }
    for (const e of now) nowList.append(eventItem(e, false));
  }

  function eventItem(e, withSeek) {
    const li = document.createElement("li");
    li.dataset.eventId = e.id;
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = e.color;
    const text = e.label + " " + Math.round(e.confidence * 100) + "% · " + timeFormat.format(new Date(e.start));
    if (withSeek) {
      const b = document.createElement("a");
      b.href = "#";
      b.textContent = text;
      b.addEventListener("click", (ev) => { ev.preventDefault(); seekTo(e.offset); });
      li.append(sw, b);
    } else {
      li.append(sw, document.createTextNode(text));
    }
    if (e.snapshot) {
      const img = document.createElement("img");
      img.src = e.snapshot;
      img.alt = e.label;
      img.className = "thumb";
      img.loading = "lazy";
      li.prepend(img);
    }
    return li;
  }

  // The part of the day the timeline shows: all of it, or a zoomed window around the play head.
  let view = { start: 0, length: 86400 };

  function pct(s) { return (100 * (s - view.start) / view.length) + "%"; }

  function setZoom(length) {
    length = Math.min(length, data.length);
    const t = video.currentTime || 0;
    view = { length, start: Math.min(Math.max(0, t - length / 2), data.length - length) };
    for (const b of document.querySelectorAll("[data-zoom]")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.zoom) === length || (length === data.length && b.dataset.zoom === "day")));
    }
    renderTimeline();
  }

  // The detections in view as markers, those closer than a few pixels merged into one (its
  // first detection's moment, all their labels), each at most a few pixels wide so a busy
  // stretch stays clickable along its length: a busy day is a few hundred buttons.
  const MARKER_GAP_PX = 6;
  const MARKER_SPAN_PX = 24;

  function markerGroups(inView) {
    const perPixel = view.length / (timelineEl.getBoundingClientRect().width || 1000);
    const seconds = MARKER_GAP_PX * perPixel, longest = MARKER_SPAN_PX * perPixel;
    const groups = [];
    for (const e of data.events) {  // in order of start
      const end = e.end_offset == null ? e.offset : e.end_offset;
      if (!inView(e.offset, end)) continue;
      const start = Math.max(e.offset, view.start), stop = Math.min(end, view.start + view.length);
      const last = groups[groups.length - 1];
      if (last && start - last.end < seconds && start - last.start < longest) {
        last.events.push(e);
        last.end = Math.max(last.end, stop);
      } else {
        groups.push({ start, end: stop, events: [e] });
      }
    }
    return groups;
  }

  function renderTimeline() {
    timelineEl.querySelectorAll(".span, .marker").forEach((el) => el.remove());
    const inView = (a, b) => b >= view.start && a <= view.start + view.length;
    for (const s of data.spans) {
      if (!inView(s.offset, s.offset + s.duration)) continue;
      const div = document.createElement("div");
      div.className = "span";
      div.style.left = pct(Math.max(s.offset, view.start));
      div.style.width = "max(2px, " + (100 * (Math.min(s.offset + s.duration, view.start + view.length) - Math.max(s.offset, view.start)) / view.length) + "%)";
      div.title = "Recorded " + fmt(s.offset) + " – " + fmt(s.offset + s.duration);
      timelineEl.insertBefore(div, cursor);
    }
    for (const group of markerGroups(inView)) {
      const first = group.events[0];
      const labels = [...new Set(group.events.map((e) => e.label))];
      const b = document.createElement("button");
      b.type = "button";
      b.className = "marker";
      b.dataset.marker = first.id;
      b.dataset.count = group.events.length;
      b.dataset.label = labels.join(" ");
      b.style.left = pct(group.start);
      b.style.background = first.color;
      b.style.width = "max(4px, " + (100 * (group.end - group.start) / view.length) + "%)";
      b.title = group.events.length === 1
        ? first.label + " " + Math.round(first.confidence * 100) + "% at " + fmt(first.offset)
        : group.events.length + " detections (" + labels.join(", ") + ") from " + fmt(first.offset);
      b.setAttribute("aria-label", b.title);
      b.addEventListener("click", (ev) => { ev.stopPropagation(); seekTo(first.offset); });
      timelineEl.insertBefore(b, cursor);
    }
    hoursEl.replaceChildren();
    const step = view.length > 4 * 3600 ? 3 * 3600 : view.length > 1800 ? 600 : view.length > 300 ? 60 : 30;
    for (let t = Math.ceil(view.start / step) * step; t <= view.start + view.length; t += step) {
      const s = document.createElement("span");
      s.style.left = pct(t);
      s.textContent = hourFormat.format(new Date(windowStart + t * 1000));
      hoursEl.append(s);
    }
  }

  function renderLists() {
    const labels = new Map();
    for (const e of data.events) labels.set(e.label, e.color);
    legend.replaceChildren();
    for (const [label, color] of labels) {
      const s = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = color;
      s.append(sw, label);
      legend.append(s);
    }
    renderDayList();
  }

  // The day's detections a page at a time: a busy camera makes thousands, and the page stays light.
  const DAY_PAGE = 20;
  let dayPage = 0;
  const pager = root.querySelector("[data-day-pager]");

  function renderDayList() {
    const events = data.events;
    const pages = Math.max(1, Math.ceil(events.length / DAY_PAGE));
    dayPage = Math.min(Math.max(0, dayPage), pages - 1);
    const shown = events.slice(dayPage * DAY_PAGE, (dayPage + 1) * DAY_PAGE);
    dayList.replaceChildren(...shown.map((e) => eventItem(e, true)));
    if (!events.length) dayList.innerHTML = '<li class="muted">No detections this day.</li>';
    pager.hidden = events.length <= DAY_PAGE;
    pager.querySelector("[data-day-count]").textContent =
      (dayPage * DAY_PAGE + 1) + "–" + (dayPage * DAY_PAGE + shown.length) + " of " + events.length;
    pager.querySelector('[data-day-page="-1"]').disabled = dayPage === 0;
    pager.querySelector('[data-day-page="1"]').disabled = dayPage >= pages - 1;
  }

  for (const b of pager.querySelectorAll("[data-day-page]")) {
    b.addEventListener("click", () => { dayPage += Number(b.dataset.dayPage); renderDayList(); });
  }

  for (const b of document.querySelectorAll("[data-zoom]")) {
    b.addEventListener("click", () => setZoom(b.dataset.zoom === "day" ? data.length : Number(b.dataset.zoom)));
  }

  timelineEl.addEventListener("click", (ev) => {
    const rect = timelineEl.getBoundingClientRect();
    seekTo(view.start + ((ev.clientX - rect.left) / rect.width) * view.length);
  });

  for (const b of document.querySelectorAll("[data-speed]")) {
    b.addEventListener("click", () => {
      video.playbackRate = Number(b.dataset.speed);
      for (const o of document.querySelectorAll("[data-speed]")) o.setAttribute("aria-pressed", String(o === b));
    });
  }

  const exportLink = document.querySelector("[data-export]");
  exportLink.addEventListener("click", () => {
    const t = windowStart + video.currentTime * 1000;
    const q = new URLSearchParams({
      camera: root.dataset.cameraSlug,
      start: new Date(t - 150000).toISOString(),
      end: new Date(t + 150000).toISOString(),
    });
    exportLink.href = data.export_url + "?" + q;
  });

  video.addEventListener("timeupdate", () => { renderNow(); fill(generation); });
  video.addEventListener("waiting", jumpGaps);
  setInterval(jumpGaps, 250);

  const q = new URLSearchParams({ camera: root.dataset.cameraSlug, date: root.dataset.date });
  fetch(root.dataset.timelineUrl + "?" + q, { credentials: "same-origin" })
    .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
    .then(({ ok, body }) => {
      if (!ok) { say(JSON.stringify(body.errors)); return; }
      data = body;
      windowStart = new Date(data.start).getTime();
      window.ainvrRecordedBoxes({
        video,
        canvas: root.querySelector("[data-boxes]"),
        toggle: root.querySelector("[data-boxes-toggle]"),
        url: root.dataset.boxesUrl,
        camera: root.dataset.cameraSlug,
        origin: windowStart,
        say,
      });
      window.ainvrTimelinePreview({
        timeline: timelineEl,
        url: root.dataset.previewUrl,
        camera: root.dataset.cameraSlug,
        origin: windowStart,
        spans: data.spans,
        at: (clientX) => {
          const rect = timelineEl.getBoundingClientRect();
          return view.start + ((clientX - rect.left) / rect.width) * view.length;
        },
        format: (offset) => timeFormat.format(new Date(windowStart + offset * 1000)),
      });
      view = { start: 0, length: data.length };
      renderTimeline();
      renderLists();
      if (!data.segments.length) { say("Nothing recorded this day."); return; }
      say(data.segments.length + " recordings");
      const at = (new Date(root.dataset.at).getTime() - windowStart) / 1000;
      seekTo(at).then(() => { setZoom(3600); renderNow(); });
    });

  window.ainvrPlayback = {
    seekTo,
    state: () => ({ next, generation, data, view, seeking: target != null, target, loading }),
  };
})();
