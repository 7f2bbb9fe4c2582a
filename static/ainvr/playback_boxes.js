// The stored boxes of the objects at the play head, drawn over a recording (the playback
// page's Boxes button): where each object's path, saved by the live detector, puts it at that
// moment. Nothing is inferred again; boxes come from /playback/boxes/ a few minutes at a time.
//
//   window.ainvrRecordedBoxes({ video, canvas, toggle, url, camera, origin, say })
//
// `origin` is the wall-clock time (ms since the epoch) of the video's time 0.
(function () {
  "use strict";

  window.ainvrRecordedBoxes = function ({ video, canvas, toggle, url, camera, origin, say }) {
    let on = false;
    let boxes = { from: 0, to: -1, events: [], loading: false };

    function iso(offset) { return new Date(origin + offset * 1000).toISOString(); }
    function seconds(text) { return (new Date(text).getTime() - origin) / 1000; }

    function load(t) {
      if (boxes.loading || (t >= boxes.from + 5 && t <= boxes.to - 5)) return;
      const from = Math.max(0, t - 30), to = t + 90;
      boxes.loading = true;
      const q = new URLSearchParams({ camera, start: iso(from), end: iso(to) });
      fetch(url + "?" + q, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
        .then((body) => {
          const events = body.events.map((e) => ({ ...e, t0: seconds(e.start), t1: e.end ? seconds(e.end) : Infinity }));
          boxes = { from, to, events, loading: false };
          draw();
        })
        .catch((e) => { boxes.loading = false; say("Could not load the boxes: " + e.message); });
    }

    // An object's box at `t`: between two points of its path, where it moved in a line.
    function boxAt(e, t) {
      const s = t - e.t0, p = e.path;
      if (!p.length || t > e.t1 + 0.5 || s < p[0][0] - 0.5) return null;
      let i = 0;
      while (i + 1 < p.length && p[i + 1][0] <= s) i++;
      if (i + 1 >= p.length || s <= p[i][0]) return p[i].slice(1);
      const f = (s - p[i][0]) / (p[i + 1][0] - p[i][0]);
      return p[i].slice(1).map((v, k) => v + f * (p[i + 1][k + 1] - v));
    }

    function draw() {
      const ratio = window.devicePixelRatio || 1;
      const cw = canvas.clientWidth, ch = canvas.clientHeight;
      if (canvas.width !== Math.round(cw * ratio) || canvas.height !== Math.round(ch * ratio)) {
        canvas.width = Math.round(cw * ratio);
        canvas.height = Math.round(ch * ratio);
      }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, cw, ch);
      let drawn = 0;
      if (on && video.videoWidth) {
        // The picture inside the element: the video keeps its shape (letterboxed).
        const scale = Math.min(cw / video.videoWidth, ch / video.videoHeight);
        const w = video.videoWidth * scale, h = video.videoHeight * scale;
        const x0 = (cw - w) / 2, y0 = (ch - h) / 2;
        const t = video.currentTime;
        ctx.lineWidth = 2;
        ctx.font = "13px system-ui, sans-serif";
        for (const e of boxes.events) {
          const b = boxAt(e, t);
          if (!b) continue;
          const x = x0 + b[0] * w, y = y0 + b[1] * h;
          ctx.strokeStyle = ctx.fillStyle = e.color;
          ctx.strokeRect(x, y, (b[2] - b[0]) * w, (b[3] - b[1]) * h);
          ctx.fillText(e.label, x + 3, Math.max(13, y - 4));
          drawn++;
        }
      }
      canvas.dataset.drawn = drawn;
    }

    function update() {
      if (on) load(video.currentTime);
      draw();
    }

    // Each frame shown where the browser tells (boxes follow the picture), else at timeupdate.
    if (video.requestVideoFrameCallback) {
      const onFrame = () => { if (on) update(); video.requestVideoFrameCallback(onFrame); };
      video.requestVideoFrameCallback(onFrame);
    } else {
      video.addEventListener("timeupdate", () => { if (on) update(); });
    }
    video.addEventListener("seeked", update);  // a paused video shows a new frame, unannounced
    window.addEventListener("resize", draw);
    toggle.addEventListener("click", () => {
      on = !on;
      toggle.setAttribute("aria-pressed", String(on));
      update();
    });
    return { draw };
  };
})();
