// A picture of the recording where the pointer hovers the playback timeline, with its time:
// the keyframe at or before that moment (/playback/preview.jpg, cached by the server and the
// browser per 2-second step), shown only over recorded spans.
//
//   window.ainvrTimelinePreview({ timeline, url, camera, origin, spans, at, format })
//
// `at(clientX)` gives the offset (seconds from `origin`, ms since the epoch) under the pointer;
// `spans` are the recorded {offset, duration}; `format(offset)` writes a time.
(function () {
  "use strict";

  const STEP_S = 2;

  window.ainvrTimelinePreview = function ({ timeline, url, camera, origin, spans, at, format }) {
    const box = document.createElement("div");
    box.className = "timeline-preview";
    box.dataset.preview = "";
    box.hidden = true;
    const img = document.createElement("img");
    img.alt = "";
    const label = document.createElement("span");
    box.append(img, label);
    timeline.append(box);
    let shownStep = null;

    function recorded(offset) {
      return spans.some((s) => s.offset <= offset && offset < s.offset + s.duration);
    }

    timeline.addEventListener("mousemove", (ev) => {
      const offset = at(ev.clientX);
      if (!recorded(offset)) { box.hidden = true; return; }
      const rect = timeline.getBoundingClientRect();
      box.style.left = Math.min(Math.max(0, ev.clientX - rect.left - 80), rect.width - 160) + "px";
      box.hidden = false;
      label.textContent = format(offset);
      box.dataset.offset = offset.toFixed(2);
      const step = Math.floor(offset / STEP_S) * STEP_S;
      if (step === shownStep) return;
      shownStep = step;
      const q = new URLSearchParams({ camera, at: new Date(origin + Math.max(offset, step) * 1000).toISOString() });
      img.src = url + "?" + q;
    });
    timeline.addEventListener("mouseleave", () => { box.hidden = true; });
  };
})();
