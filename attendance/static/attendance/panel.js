// The attendance panel: refreshed from state.json every few seconds, and at once when the
// dashboard socket announces an alert. Text only (textContent): names never become HTML.
(function () {
  "use strict";
  const root = document.getElementById("attendance-panel");
  if (!root) return;
  const url = root.dataset.stateUrl;
  const POLL_MS = 5000;

  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
  const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : "");

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    if (tag === "th") el.scope = "row";
    return el;
  }

  function fill(tbody, rows, columns, emptyText) {
    tbody.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("td", emptyText);
      td.colSpan = columns;
      tr.append(td);
      tbody.append(tr);
      return;
    }
    for (const cells of rows) {
      const tr = document.createElement("tr");
      tr.append(...cells);
      tbody.append(tr);
    }
  }

  function render(data) {
    root.querySelector('[data-count="available"]').textContent = data.counts.available;
    root.querySelector('[data-count="off"]').textContent = data.counts.off;
    root.querySelector("[data-as-of]").textContent = time(data.as_of);
    const alerts = root.querySelector("[data-alerts]");
    alerts.replaceChildren(...(data.alerts.length ? data.alerts.map((a) => cell("li", a.message)) : [cell("li", "None.", "muted")]));
    fill(root.querySelector("[data-employees]"), data.employees.map((e) => {
      const state = document.createElement("td");
      state.append(cell("span", e.state === "available" ? "In" : "Away", "state state-" + (e.state === "available" ? "online" : "offline")));
      return [cell("th", e.name), cell("td", e.department), state, cell("td", dateTime(e.since)),
        cell("td", e.last_seen ? dateTime(e.last_seen) : "never"), cell("td", e.last_camera_name || "")];
    }), 6, "No active employee yet.");
    fill(root.querySelector("[data-today]"), data.today.map((r) =>
      [cell("th", r.name), cell("td", time(r.first_in)), cell("td", time(r.last_out)), cell("td", String(r.hours))]
    ), 4, "Nobody seen today yet.");
  }

  let pending = null;
  async function refresh() {
    clearTimeout(pending);
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) render(await response.json());
    } catch (e) { /* offline for a moment: the next poll retries */ }
    pending = setTimeout(refresh, POLL_MS);
  }

  function listen() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + "/ws/dashboard/");
    socket.onmessage = (message) => {
      try {
        const data = JSON.parse(message.data);
        if (data.event === "alert.created" || data.event === "alert.resolved") refresh();
      } catch (e) { /* not ours */ }
    };
    socket.onclose = () => setTimeout(listen, 5000);
  }

  pending = setTimeout(refresh, POLL_MS);
  listen();
})();
