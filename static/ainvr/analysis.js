// Progress of analysis jobs: each [data-job-status] box that is active polls its status
// endpoint until the job ends; on a job's own page the results are then shown by a reload.
(function () {
  "use strict";
  function follow(box) {
    const bar = box.querySelector("[data-progress]");
    const percent = box.querySelector("[data-percent]");
    const text = box.querySelector("[data-status-text]") ||
      document.querySelector('[data-status-text-for="' + box.closest("[data-job]")?.dataset.job + '"]');
    const error = box.querySelector("[data-error]");
    async function poll() {
      try {
        const r = await fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" });
        if (r.ok) {
          const s = await r.json();
          bar.value = s.percent;
          percent.textContent = s.percent;
          if (text) text.textContent = s.status_display;
          if (s.error && error) { error.textContent = s.error; error.hidden = false; }
          if (!s.active) {
            if (box.dataset.reload !== "false") location.reload();
            return;
          }
        }
      } catch (e) { /* the server restarts: try again */ }
      setTimeout(poll, 1000);
    }
    setTimeout(poll, 1000);
  }
  document.querySelectorAll('[data-job-status][data-active="true"]').forEach(follow);
})();
