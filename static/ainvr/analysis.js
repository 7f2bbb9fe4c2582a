// The progress bar of an analysis job: polls its status until it ends, then reloads to
// show the results.
(function () {
  "use strict";
  const box = document.querySelector("[data-job-status]");
  if (!box || box.dataset.active !== "true") return;
  const bar = box.querySelector("[data-progress]");
  const percent = box.querySelector("[data-percent]");
  const text = box.querySelector("[data-status-text]");
  const error = box.querySelector("[data-error]");
  async function poll() {
    try {
      const r = await fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" });
      if (r.ok) {
        const s = await r.json();
        bar.value = s.percent;
        percent.textContent = s.percent;
        text.textContent = s.status_display;
        if (s.error) { error.textContent = s.error; error.hidden = false; }
        if (!s.active) { location.reload(); return; }
      }
    } catch (e) { /* the server restarts: try again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
