// The attendance report's "Reset logs" dialog (POST /api/admin/reset_logs, the form's data-url).
// Deleting is deliberate: the first submit only counts (a dry run); the Delete button then
// needs the count typed back, and sends it as `expected`, so rows that changed meanwhile
// stop the delete. An empty date field is sent as null: "no bound".
(function () {
  "use strict";
  const dialog = document.getElementById("reset-logs");
  if (!dialog) return;
  const form = document.getElementById("reset-logs-form");
  const result = document.getElementById("reset-logs-result");
  const confirmBox = document.getElementById("reset-logs-confirm");
  const countText = document.getElementById("reset-logs-count");
  const typed = document.getElementById("reset-logs-typed");
  const del = document.getElementById("reset-logs-delete");
  let counted = null; // {body, total} of the last dry run

  function reset() {
    counted = null;
    confirmBox.hidden = true;
    del.hidden = true;
    del.disabled = true;
    typed.value = "";
  }
  function body() {
    const data = new FormData(form);
    return { table: data.get("table"), from_date: data.get("from_date") || null, to_date: data.get("to_date") || null };
  }
  async function post(payload) {
    const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    const response = await fetch(form.dataset.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(payload),
    });
    return { ok: response.ok, answer: await response.json().catch(() => ({})) };
  }
  function refusal(answer) {
    return "Not done: " + Object.entries(answer).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
  }

  document.getElementById("reset-logs-open").addEventListener("click", () => {
    result.textContent = "";
    reset();
    dialog.showModal();
  });
  document.getElementById("reset-logs-close").addEventListener("click", () => dialog.close());
  form.addEventListener("change", (event) => { if (event.target !== typed) reset(); });
  typed.addEventListener("input", () => {
    del.disabled = !(counted && counted.total > 0 && typed.value.trim() === String(counted.total));
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    reset();
    const payload = body();
    const { ok, answer } = await post({ ...payload, dry_run: true });
    if (!ok) { result.textContent = refusal(answer); return; }
    const total = answer.deleted_events + answer.deleted_alert_logs;
    const span = payload.from_date || payload.to_date ? "" : " (no dates: every row)";
    result.textContent = `This deletes ${answer.deleted_events} attendance events and ${answer.deleted_alert_logs} alert logs${span}.`;
    if (total === 0) return;
    counted = { payload, total };
    countText.textContent = String(total);
    confirmBox.hidden = false;
    del.hidden = false;
    typed.focus();
  });

  del.addEventListener("click", async () => {
    if (!counted || typed.value.trim() !== String(counted.total)) return;
    const all = !(counted.payload.from_date || counted.payload.to_date);
    const { ok, answer } = await post({ ...counted.payload, expected: counted.total, confirm_all: all });
    reset();
    result.textContent = ok
      ? `Deleted ${answer.deleted_events} attendance events and ${answer.deleted_alert_logs} alert logs.`
      : refusal(answer);
  });
})();
