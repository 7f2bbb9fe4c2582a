// The live grid: each tile plays /ws/live/<camera>/ (fragmented MP4) through Media Source
// Extensions and draws the AI boxes of the frame on screen over it.
//
// In step with the video: the init message gives `epoch`, the wall-clock time of media
// time 0; a detection's media time is captured_at - epoch, and a box is drawn only while
// the video shows that moment (video.currentTime), not when the message arrives.
(function () {
  "use strict";

  const LIVE_EDGE_S = 1.0;      // further behind the newest data than this: jump ahead
  const CATCH_UP_S = 0.25;      // further behind than this: play at 1.15x until caught up
  const KEEP_BUFFER_S = 20;     // video kept behind the play head
  const STALE_DETECTION_S = 1.0; // boxes older than this (in media time) are not drawn
  const AI_TIMEOUT_S = 10;
  // The AI state the server knows (detection.status.AI_LABELS), shown when no boxes came lately:
  // a healthy detector on a still scene sends none, and neither does a dead one.
  const AI_LABELS = {
    off: "AI off", watching: "AI watching", starting: "AI starting", restarting: "AI restarting", down: "AI down",
  };
  const REFUSED_RETRY_MS = 60000; // a socket refused for a cap (close code 4429 or 4503) is tried again this late
  const REFUSED_TEXT = { 4429: "Too many live videos open for you.", 4503: "The server shows as many live videos as it can." };
  const STATS_EVERY_MS = 250;   // how often the AI state, catch-up and the measured figures are updated
  const pageStart = performance.now();
  // When each step of a tile's start happened (ms from page start), for the first frame's
  // breakdown: socket open, init received, first video received, first frame shown.
  function mark(el, name) {
    if (!el.dataset[name]) el.dataset[name] = String(Math.round(performance.now() - pageStart));
  }
  let overlayOn = true;
  let candidatesOn = false; // the debug view: candidates drawn dimmed
  let zonesOn = false;      // the cameras' zones and masks drawn under the boxes
  const zonesData = document.querySelector("#zones-data");
  const ZONES = zonesData ? JSON.parse(zonesData.textContent) : {};
  const ZONE_COLORS = { zone: "30, 136, 229", motion_mask: "90, 90, 90", object_mask: "229, 57, 53" };

  function colorFor(label) {
    const fixed = { person: "#e53935", car: "#1e88e5", truck: "#3949ab", bicycle: "#43a047", bus: "#8e24aa" };
    if (fixed[label]) return fixed[label];
    let h = 0;
    for (const c of label) h = (h * 31 + c.charCodeAt(0)) % 360;
    return "hsl(" + h + ", 70%, 50%)";
  }

  class LiveTile {
    constructor(el) {
      this.el = el;
      this.video = el.querySelector("video");
      this.canvas = el.querySelector("canvas");
      this.bar = el.querySelector(".tile-bar");
      this.msg = el.querySelector("[data-msg]");
      this.aiState = el.querySelector("[data-ai-state]");
      this.cameraState = el.querySelector("[data-camera-state]");
      this.aiEnabled = el.dataset.ai === "on";
      this.aiStatus = this.aiState.dataset.aiState || "";
      this.detections = [];
      this.queue = [];
      this.delay = 1000;
      this.lastDetectionAt = 0;
      this.firstFrame = false;
      // The grid plays the camera's sub-stream where it has one; full screen, the main stream.
      this.url = el.dataset.socket;
      el.dataset.stream = this.url.includes("stream=sub") ? "sub" : "main";
      el.querySelector("[data-fullscreen]").addEventListener("click", () => this.fullscreen());
      el.addEventListener("fullscreenchange", () => {
        this.play(document.fullscreenElement === el ? el.dataset.socketMain : el.dataset.socket);
      });
      this.video.addEventListener("playing", () => this.onPlaying());
      this.connect();
    }

    settled() {
      // This tile's first socket is open (or failed): see tilesSettled below.
      if (!this.hasSettled) { this.hasSettled = true; tileSettled(); }
    }

    say(text) {
      this.msg.textContent = text;
      this.msg.hidden = !text;
    }

    fullscreen() {
      if (document.fullscreenElement === this.el) document.exitFullscreen();
      else if (this.el.requestFullscreen) this.el.requestFullscreen();
    }

    play(url) {
      if (!url || url === this.url) return;
      this.url = url;
      this.el.dataset.stream = url.includes("stream=sub") ? "sub" : "main";
      if (this.ws) {
        this.ws.onclose = this.ws.onmessage = null; // not a drop: no reconnect to the stream we leave
        this.ws.close();
      }
      this.teardown();
      this.el.dataset.state = "switching";
      this.say("Switching stream…");
      this.connect();
    }

    connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const ws = new WebSocket(scheme + location.host + this.url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onmessage = (m) => {
        if (typeof m.data === "string") {
          let msg;
          try { msg = JSON.parse(m.data); } catch (e) { return; }
          if (msg.type === "init") { mark(this.el, "initMs"); this.start(msg.codec, msg.epoch); }
          else if (msg.type === "refused") this.refusedReason = msg.reason;
          else if (msg.type === "detections") this.onDetections(msg);
        } else {
          if (this.epoch != null) mark(this.el, "mediaMs");
          this.queue.push(m.data);
          this.el.dataset.fragments = String(Number(this.el.dataset.fragments || 0) + 1);
          this.pump();
        }
      };
      ws.onopen = () => { mark(this.el, "openMs"); this.delay = 1000; this.say("Waiting for video…"); this.settled(); };
      ws.onclose = (e) => {
        this.settled();
        this.teardown();
        if (e.code === 4429 || e.code === 4503) {
          // Refused: too many live videos for this user (4429) or this server (4503). Say
          // why and try again much later, not in a loop that would keep the server busy.
          this.say(this.refusedReason || e.reason || REFUSED_TEXT[e.code]);
          this.refusedReason = null;
          this.el.dataset.state = "refused";
          setTimeout(() => { if (this.ws === ws) this.connect(); }, REFUSED_RETRY_MS);
          return;
        }
        this.say("Reconnecting…");
        this.el.dataset.state = "reconnecting";
        // A dropped socket (server restart, network blip) comes back by itself.
        setTimeout(() => { if (this.ws === ws) this.connect(); }, this.delay);
        this.delay = Math.min(this.delay * 2, 10000);
      };
    }

    teardown() {
      this.queue = [];
      this.sourceBuffer = null;
      if (this.mediaSource && this.video.src) {
        URL.revokeObjectURL(this.video.src);
        this.video.removeAttribute("src");
        this.video.load();
      }
      this.mediaSource = null;
    }

    start(codec, epoch) {
      // A new init (first one, or the camera came back with other settings): a fresh MediaSource.
      this.teardown();
      this.epoch = epoch;
      this.fresh = true;
      this.detections = [];
      const mime = 'video/mp4; codecs="' + codec + '"';
      if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
        this.say("This browser cannot play " + codec);
        return;
      }
      const ms = new MediaSource();
      this.mediaSource = ms;
      this.video.src = URL.createObjectURL(ms);
      ms.addEventListener("sourceopen", () => {
        if (this.mediaSource !== ms) return;
        const sb = ms.addSourceBuffer(mime);
        sb.mode = "segments";
        sb.addEventListener("updateend", () => this.afterAppend());
        this.sourceBuffer = sb;
        this.pump();
      }, { once: true });
    }

    pump() {
      const sb = this.sourceBuffer;
      if (!sb || sb.updating || !this.queue.length || this.mediaSource.readyState !== "open") return;
      // Everything waiting goes in one append: one fragment per frame, and an append per
      // fragment falls behind when the CPU is busy (8 tiles at 15 fps: 120 appends a second).
      let data;
      if (this.queue.length === 1) {
        data = this.queue.shift();
      } else {
        const size = this.queue.reduce((n, b) => n + b.byteLength, 0);
        const merged = new Uint8Array(size);
        let at = 0;
        for (const b of this.queue) { merged.set(new Uint8Array(b), at); at += b.byteLength; }
        this.queue = [];
        data = merged;
      }
      try {
        sb.appendBuffer(data);
      } catch (e) {
        // QuotaExceeded or a decode error: start again from a fresh init.
        if (this.ws) this.ws.close();
      }
    }

    afterAppend() {
      const sb = this.sourceBuffer;
      const v = this.video;
      if (!sb) return;
      if (sb.buffered.length) {
        const end = sb.buffered.end(sb.buffered.length - 1);
        const start = sb.buffered.start(0);
        // The first data is the GOP the relay held, up to a few seconds old: start at its
        // newest frame (the decoder runs through the GOP to get there), not at its keyframe.
        if (this.fresh || end - v.currentTime > LIVE_EDGE_S || v.currentTime < sb.buffered.start(sb.buffered.length - 1)) {
          this.fresh = false;
          v.currentTime = Math.max(sb.buffered.start(sb.buffered.length - 1), end - 0.1);
        }
        if (v.paused) v.play().catch(() => {});
        if (v.currentTime - start > KEEP_BUFFER_S * 2 && !sb.updating) {
          sb.remove(start, v.currentTime - KEEP_BUFFER_S);
          return; // updateend follows and pumps
        }
      }
      this.pump();
    }

    onPlaying() {
      this.say("");
      this.el.dataset.state = "playing";
      if (!this.firstFrame) {
        this.firstFrame = true;
        this.el.dataset.firstFrameMs = String(Math.round(performance.now() - pageStart));
      }
    }

    onDetections(msg) {
      if (this.epoch == null) return;
      const mediaTime = msg.captured_at - this.epoch;
      this.detections.push({ t: mediaTime, objects: msg.objects || [] });
      this.detections.sort((a, b) => a.t - b.t);
      // Bounded even while the overlay is off or the video stalls.
      const oldest = this.video.currentTime - 5;
      while (this.detections.length > 1 && (this.detections[0].t < oldest || this.detections.length > 300)) {
        this.detections.shift();
      }
      this.lastDetectionAt = performance.now();
      this.aiStatus = "watching";
      if (msg.inference_ms != null) {
        this.aiState.textContent = "AI " + Math.round(msg.inference_ms) + " ms";
        this.aiState.className = "pill ai-on";
      }
    }

    // The detections of the frame on screen: the newest not after the play head, if recent.
    current() {
      const now = this.video.currentTime;
      while (this.detections.length > 1 && this.detections[1].t <= now) this.detections.shift();
      const d = this.detections[0];
      if (!d || d.t > now + 0.05 || now - d.t > STALE_DETECTION_S) return null;
      return d;
    }

    draw() {
      const c = this.canvas;
      const rect = c.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.round(rect.width * dpr), h = Math.round(rect.height * dpr);
      const d = overlayOn ? this.current() : null;
      const vw = this.video.videoWidth, vh = this.video.videoHeight;
      // Repaint only when what is shown changes: eight canvases cleared 60 times a second
      // starve a busy CPU of the time the videos need.
      if (c.width !== w || c.height !== h || d !== this.shown || vw !== this.shownWidth || vh !== this.shownHeight ||
          zonesOn !== this.shownZones) {
        if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
        this.shown = d;
        this.shownZones = zonesOn;
        this.shownWidth = vw;
        this.shownHeight = vh;
        this.paint(d, w, h, vw, vh, dpr);
      }
      const now = performance.now();
      if (now - (this.statsAt || 0) < STATS_EVERY_MS) return;
      this.statsAt = now;
      if (this.aiEnabled && this.lastDetectionAt && now - this.lastDetectionAt > AI_TIMEOUT_S * 1000) {
        this.lastDetectionAt = 0;
        this.showAiStatus();
      }
      if (this.epoch != null && this.el.dataset.state === "playing") {
        // Wall clock now minus the wall-clock time of the frame on screen.
        this.el.dataset.latencyMs = String(Math.round((Date.now() / 1000 - this.epoch - this.video.currentTime) * 1000));
        const b = this.video.buffered;
        this.keepUp(b);
        // How far the play head is behind the newest video received: the player's share of the latency.
        this.el.dataset.queued = String(this.queue.length);
        if (b.length) this.el.dataset.behindMs = String(Math.round((b.end(b.length - 1) - this.video.currentTime) * 1000));
      }
    }

    // The camera's zones and masks, over the picture inside the tile; how many were drawn.
    paintZones(ctx, w, h, vw, vh, dpr) {
      const areas = ZONES[this.el.dataset.camera] || [];
      const scale = Math.min(w / vw, h / vh);
      const dw = vw * scale, dh = vh * scale, ox = (w - dw) / 2, oy = (h - dh) / 2;
      ctx.font = Math.round(12 * dpr) + "px system-ui, sans-serif";
      ctx.textBaseline = "top";
      for (const area of areas) {
        const rgb = ZONE_COLORS[area.kind] || ZONE_COLORS.zone;
        ctx.beginPath();
        area.points.forEach(([x, y], i) => (i ? ctx.lineTo(ox + x * dw, oy + y * dh) : ctx.moveTo(ox + x * dw, oy + y * dh)));
        ctx.closePath();
        ctx.fillStyle = "rgba(" + rgb + ", 0.22)";
        ctx.fill();
        ctx.lineWidth = Math.max(1, 1.5 * dpr);
        ctx.strokeStyle = "rgb(" + rgb + ")";
        ctx.stroke();
        ctx.fillStyle = "rgb(" + rgb + ")";
        ctx.fillText(area.name, ox + area.points[0][0] * dw + 4 * dpr, oy + area.points[0][1] * dh + 4 * dpr);
      }
      return areas.length;
    }

    paint(d, w, h, vw, vh, dpr) {
      const c = this.canvas;
      const ctx = c.getContext("2d");
      ctx.clearRect(0, 0, w, h);
      let drawn = 0;
      const labels = [];
      this.el.dataset.zonesDrawn = String(zonesOn && vw && vh ? this.paintZones(ctx, w, h, vw, vh, dpr) : 0);
      if (d && vw && vh) {
        // Where the video really is inside the tile (object-fit: contain).
        const scale = Math.min(w / vw, h / vh);
        const dw = vw * scale, dh = vh * scale, ox = (w - dw) / 2, oy = (h - dh) / 2;
        ctx.lineWidth = Math.max(2, 2 * dpr);
        ctx.font = Math.round(12 * dpr) + "px system-ui, sans-serif";
        ctx.textBaseline = "top";
        for (const o of d.objects) {
          // A candidate is a box not judged a real object (yet): drawn only in the debug view.
          if (o.candidate && !candidatesOn) continue;
          ctx.globalAlpha = o.candidate ? 0.45 : 1;
          const [x1, y1, x2, y2] = o.box;
          const x = ox + x1 * dw, y = oy + y1 * dh, bw = (x2 - x1) * dw, bh = (y2 - y1) * dh;
          const color = colorFor(o.label);
          ctx.strokeStyle = color;
          ctx.strokeRect(x, y, bw, bh);
          const text = o.label + " " + Math.round(o.confidence * 100) + "%";
          const tw = ctx.measureText(text).width + 6 * dpr;
          const th = 16 * dpr;
          // Above the box; else inside its top; never under the tile's header bar: then below
          // the box, or inside its bottom.
          const bar = this.bar ? this.bar.offsetHeight * dpr : 0;
          let ty = y - th;
          if (ty < bar) ty = y >= bar ? y : y + bh + th <= h ? y + bh : Math.max(bar, y + bh - th);
          ctx.fillStyle = color;
          ctx.fillRect(x, ty, tw, th);
          ctx.fillStyle = "#fff";
          ctx.fillText(text, x + 3 * dpr, ty + 2 * dpr);
          if (o.candidate) continue;
          drawn += 1;
          labels.push(o.label);
        }
        ctx.globalAlpha = 1;
      }
      this.el.dataset.boxes = String(drawn);
      this.el.dataset.labels = labels.join(" ");
    }

    // Stay near the newest video: play a little faster while behind, jump when far behind.
    keepUp(b) {
      if (!b.length || this.video.paused) return;
      const behind = b.end(b.length - 1) - this.video.currentTime;
      if (behind > LIVE_EDGE_S) this.video.currentTime = b.end(b.length - 1) - 0.1;
      else this.video.playbackRate = behind > CATCH_UP_S ? 1.15 : 1.0;
    }

    // "camera.ai" from the dashboard socket: the detector watches this camera, or is down.
    setAiStatus(payload) {
      this.aiStatus = payload.state;
      this.aiState.dataset.aiState = payload.state;
      // Boxes arriving say more ("AI 12 ms") than "watching"; anything else is news at once.
      if (payload.state !== "watching" || !this.lastDetectionAt) this.showAiStatus();
    }

    showAiStatus() {
      const state = this.aiEnabled ? this.aiStatus : "off";
      this.aiState.textContent = AI_LABELS[state] || "AI waiting";
      this.aiState.className = "pill" + (state ? " ai-" + state : "");
    }

    setCameraState(payload) {
      this.cameraState.textContent = payload.state.charAt(0).toUpperCase() + payload.state.slice(1);
      this.cameraState.className = "pill " + payload.state;
      this.cameraState.title = payload.last_error || "Camera";
    }
  }

  // Browsers open one socket at a time to a host: the dashboard socket (nav.js) waits until
  // every tile's has opened, so that it does not hold up the video.
  const tileElements = document.querySelectorAll("[data-tile]");
  let unsettled = tileElements.length;
  function tileSettled() {
    unsettled -= 1;
    if (unsettled === 0) window.dispatchEvent(new Event("ainvr:live-sockets-open"));
  }
  const tiles = Array.from(tileElements).map((el) => new LiveTile(el));

  function frame() {
    for (const t of tiles) t.draw();
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);

  const toggle = document.querySelector("[data-overlay-toggle]");
  overlayOn = toggle.getAttribute("aria-pressed") === "true";
  toggle.addEventListener("click", () => {
    overlayOn = !overlayOn;
    toggle.setAttribute("aria-pressed", String(overlayOn));
  });

  const candidatesToggle = document.querySelector("[data-candidates-toggle]");
  if (candidatesToggle) {
    candidatesToggle.addEventListener("click", () => {
      candidatesOn = !candidatesOn;
      candidatesToggle.setAttribute("aria-pressed", String(candidatesOn));
    });
  }

  const zonesToggle = document.querySelector("[data-zones-toggle]");
  if (zonesToggle) {
    zonesToggle.addEventListener("click", () => {
      zonesOn = !zonesOn;
      zonesToggle.setAttribute("aria-pressed", String(zonesOn));
    });
  }

  const choice = document.querySelector("[data-layout-choice]");
  if (choice) choice.addEventListener("change", () => { location.href = choice.value; });

  window.addEventListener("ainvr:dashboard", (e) => {
    const msg = e.detail;
    if (msg.event === "camera.status") {
      for (const t of tiles) if (t.el.dataset.camera === msg.payload.camera) t.setCameraState(msg.payload);
    } else if (msg.event === "camera.ai") {
      for (const t of tiles) if (t.el.dataset.camera === msg.payload.camera) t.setAiStatus(msg.payload);
    }
  });
})();
