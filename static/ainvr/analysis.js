// Analysis pages: the progress of active jobs, and a finished job's activity chart.
(function () {
  "use strict";
  // Each [data-job-status] box that is active polls its status endpoint until the job ends;
  // on a job's own page the results are then shown by a reload.
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

  // Stacked bars of objects per class per time bin (Chart.js, served from our static files).
  const canvas = document.querySelector("[data-chart-canvas]");
  const source = document.getElementById("chart-data");
  if (canvas && source && window.Chart) {
    const chart = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map((d) => ({ label: d.label, data: d.data, backgroundColor: d.color })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }
})();
