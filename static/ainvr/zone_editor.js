// The zone and mask editor: a camera's areas drawn over a recent still of it. Click to add
// points, drag a point to move it, Delete removes the chosen point; each area is saved through
// /api/zones/ (admins), which checks the outline and answers 400 with the reason.
(function () {
  "use strict";

  const root = document.querySelector("[data-zone-editor]");
  if (!root) return;
  const api = root.dataset.api;
  const camera = root.dataset.camera;
  const canvas = root.querySelector("[data-canvas]");
  const still = root.querySelector("[data-still]");
  const list = root.querySelector("[data-zone-list]");
  const form = root.querySelector("[data-zone-form]");
  const errorsEl = root.querySelector("[data-zone-errors]");
  const savedEl = root.querySelector("[data-saved]");
  const field = (name) => form.querySelector(`[data-field="${name}"]`);
  const COLORS = {
    zone: ["rgba(30, 136, 229, 0.25)", "#1e88e5"],
    motion_mask: ["rgba(90, 90, 90, 0.45)", "#444"],
    object_mask: ["rgba(229, 57, 53, 0.28)", "#e53935"],
  };
  const KIND_NAMES = { zone: "zone", motion_mask: "motion mask", object_mask: "object mask" };
  const HANDLE_PX = 6;

  let areas = JSON.parse(document.getElementById("zones-data").textContent);
  let current = null;   // the area being drawn or changed: a copy, saved on Save
  let drawing = false;  // clicks add points
  let chosen = -1;      // the chosen point of `current`
  let dragging = -1;

  still.addEventListener("error", () => {
    still.hidden = true;
    root.querySelector("[data-still-missing]").hidden = false;
  });

  // --- drawing -----------------------------------------------------------------------
  function size() {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * ratio), h = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    return { w, h, ratio };
  }

  function outline(ctx, points, w, h) {
    ctx.beginPath();
    points.forEach(([x, y], i) => (i ? ctx.lineTo(x * w, y * h) : ctx.moveTo(x * w, y * h)));
  }

  function draw() {
    const { w, h, ratio } = size();
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    ctx.font = `${13 * ratio}px system-ui, sans-serif`;
    for (const area of areas) {
      if (current && area.id === current.id) continue;
      const [fill, stroke] = COLORS[area.kind];
      outline(ctx, area.points, w, h);
      ctx.closePath();
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = stroke;
      ctx.stroke();
      ctx.fillStyle = stroke;
      ctx.fillText(area.name, area.points[0][0] * w + 4 * ratio, area.points[0][1] * h + 14 * ratio);
    }
    if (!current) return;
    const [fill, stroke] = COLORS[current.kind];
    outline(ctx, current.points, w, h);
    if (!drawing) ctx.closePath();
    if (!drawing && current.points.length >= 3) { ctx.fillStyle = fill; ctx.fill(); }
    ctx.lineWidth = 2.5 * ratio;
    ctx.strokeStyle = stroke;
    ctx.stroke();
    current.points.forEach(([x, y], i) => {
      ctx.beginPath();
      ctx.arc(x * w, y * h, HANDLE_PX * ratio, 0, 2 * Math.PI);
      ctx.fillStyle = i === chosen ? stroke : "#fff";
      ctx.fill();
      ctx.lineWidth = 2 * ratio;
      ctx.stroke();
    });
    form.querySelector("[data-point-count]").textContent = current.points.length + " points";
  }

  // --- the pointer -------------------------------------------------------------------
  function at(ev) {
    const rect = canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((ev.clientX - rect.left) / rect.width), clamp((ev.clientY - rect.top) / rect.height)];
  }

  function pointNear(ev) {
    const rect = canvas.getBoundingClientRect();
    let best = -1, bestDistance = HANDLE_PX * 2;
    current.points.forEach(([x, y], i) => {
      const d = Math.hypot(x * rect.width - (ev.clientX - rect.left), y * rect.height - (ev.clientY - rect.top));
      if (d < bestDistance) { best = i; bestDistance = d; }
    });
    return best;
  }

  canvas.addEventListener("pointerdown", (ev) => {
    if (!current) return;
    canvas.focus();
    const near = pointNear(ev);
    if (near >= 0) {
      chosen = dragging = near;
      canvas.setPointerCapture(ev.pointerId);
    } else if (drawing) {
      current.points.push(at(ev).map((v) => Math.round(v * 10000) / 10000));
      chosen = current.points.length - 1;
    }
    draw();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (dragging < 0) return;
    current.points[dragging] = at(ev).map((v) => Math.round(v * 10000) / 10000);
    draw();
  });
  canvas.addEventListener("pointerup", () => { dragging = -1; });
  canvas.addEventListener("keydown", (ev) => {
    if (!current) return;
    if ((ev.key === "Delete" || ev.key === "Backspace") && chosen >= 0) {
      current.points.splice(chosen, 1);
      chosen = -1;
      ev.preventDefault();
    } else if (ev.key === "Enter" && drawing) {
      finish();
    } else if (ev.key === "Escape") {
      cancel();
    }
    draw();
  });
  window.addEventListener("resize", draw);

  // --- the list and the form -----------------------------------------------------------
  function renderList() {
    list.replaceChildren();
    for (const area of areas) {
      const li = document.createElement("li");
      li.dataset.zoneId = area.id;
      if (current && current.id === area.id) li.setAttribute("aria-current", "true");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLORS[area.kind][1];
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button";
      b.textContent = area.name + " · " + KIND_NAMES[area.kind];
      b.addEventListener("click", () => edit(area));
      li.append(swatch, b);
      list.append(li);
    }
    if (!areas.length) list.innerHTML = '<li class="help">No zones or masks yet.</li>';
  }

  function showForm() {
    form.hidden = false;
    field("name").value = current.name;
    field("kind").value = current.kind;
    field("classes").value = (current.classes || []).join(", ");
    field("min_frames").value = current.min_frames;
    field("loiter_seconds").value = current.loiter_seconds == null ? "" : current.loiter_seconds;
    field("alert").checked = !!current.alert;
    form.querySelector("[data-delete]").hidden = current.id == null;
    form.querySelector("[data-finish]").hidden = !drawing;
    form.querySelector("[data-drawing-help]").hidden = false;
    zoneOnly();
    say("");
  }

  function zoneOnly() { form.querySelector("[data-zone-only]").hidden = field("kind").value !== "zone"; }
  field("kind").addEventListener("change", () => { if (current) { current.kind = field("kind").value; draw(); } zoneOnly(); });

  function say(errors) {
    errorsEl.hidden = !errors;
    errorsEl.textContent = errors || "";
  }

  function startNew(kind) {
    const names = { zone: "Zone", motion_mask: "Motion mask", object_mask: "Object mask" };
    let n = 1;
    while (areas.some((a) => a.name === names[kind] + " " + n)) n++;
    current = { id: null, name: names[kind] + " " + n, kind, points: [], classes: [], min_frames: 3, loiter_seconds: null, alert: false };
    drawing = true;
    chosen = -1;
    showForm();
    renderList();
    draw();
    canvas.focus();
  }

  function edit(area) {
    current = JSON.parse(JSON.stringify(area));
    drawing = false;
    chosen = -1;
    showForm();
    renderList();
    draw();
  }

  function finish() {
    if (current.points.length < 3) { say("An outline needs 3 points at least: click on the picture to add them."); return; }
    drawing = false;
    form.querySelector("[data-finish]").hidden = true;
    draw();
  }

  function cancel() {
    current = null;
    drawing = false;
    form.hidden = true;
    renderList();
    draw();
  }

  for (const b of root.querySelectorAll("[data-new]")) b.addEventListener("click", () => startNew(b.dataset.new));
  form.querySelector("[data-finish]").addEventListener("click", finish);
  form.querySelector("[data-cancel]").addEventListener("click", cancel);

  function request(method, url, body) {
    return fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  // A 400's field messages, one line each ("points: The outline crosses itself ...").
  function explain(body) {
    const errors = body && (body.errors || body);
    if (!errors || typeof errors !== "object") return "The area was not saved.";
    return Object.entries(errors).map(([name, messages]) => {
      const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
      return name === "non_field_errors" || name === "detail" ? text : name + ": " + text;
    }).join("\n");
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (drawing) finish();
    if (drawing) return;
    const loiter = field("loiter_seconds").value.trim();
    const body = {
      camera,
      name: field("name").value.trim(),
      kind: field("kind").value,
      points: current.points,
      classes: field("classes").value.split(",").map((c) => c.trim()).filter(Boolean),
      min_frames: Number(field("min_frames").value || 3),
      loiter_seconds: loiter === "" ? null : Number(loiter),
      alert: field("alert").checked,
    };
    const response = current.id == null ? await request("POST", api, body) : await request("PATCH", api + current.id + "/", body);
    const answer = await response.json().catch(() => null);
    if (!response.ok) { say(explain(answer)); return; }
    areas = areas.filter((a) => a.id !== answer.id).concat([answer]);
    savedEl.textContent = "Saved “" + answer.name + "”.";
    cancel();
  });

  form.querySelector("[data-delete]").addEventListener("click", async () => {
    if (!current || current.id == null || !window.confirm("Delete “" + current.name + "”?")) return;
    const response = await request("DELETE", api + current.id + "/");
    if (!response.ok) { say(explain(await response.json().catch(() => null))); return; }
    savedEl.textContent = "Deleted “" + current.name + "”.";
    areas = areas.filter((a) => a.id !== current.id);
    cancel();
  });

  renderList();
  still.addEventListener("load", () => {
    // The picture's own shape, so the outlines sit where they will be on the camera's frames.
    root.querySelector("[data-stage]").style.aspectRatio = still.naturalWidth + " / " + still.naturalHeight;
    draw();
  });
  draw();
})();
