// The attendance report's "Reset logs" dialog: POST /api/admin/reset_logs (the form's
// data-url) and say what went. An empty date field is sent as null: "no bound".
(function () {
  "use strict";
  const dialog = document.getElementById("reset-logs");
  if (!dialog) return;
  const form = document.getElementById("reset-logs-form");
  const result = document.getElementById("reset-logs-result");
  document.getElementById("reset-logs-open").addEventListener("click", () => {
    result.textContent = "";
    dialog.showModal();
  });
  document.getElementById("reset-logs-close").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { table: data.get("table"), from_date: data.get("from_date") || null, to_date: data.get("to_date") || null };
    const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    const response = await fetch(form.dataset.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      result.textContent = `Deleted ${answer.deleted_events} events and ${answer.deleted_alert_logs} alert logs.`;
    } else {
      result.textContent = "Not deleted: " + Object.entries(answer).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
    }
  });
})();
