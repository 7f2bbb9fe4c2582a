// The navigation on small screens, and the alerts menu fed by the dashboard socket.
// The socket's messages are re-dispatched as "ainvr:dashboard" window events, so pages
// (the live grid) use the same connection instead of opening another.
(function () {
  "use strict";

  const toggle = document.querySelector("[data-nav-toggle]");
  if (toggle) {
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.getElementById("main-nav").classList.toggle("open", open);
    });
  }

  const root = document.querySelector("[data-alerts]");
  if (!root) return;
  const button = root.querySelector("[data-alerts-button]");
  const menu = root.querySelector("[data-alerts-menu]");
  const list = root.querySelector("[data-alerts-list]");
  const badge = root.querySelector("[data-alerts-badge]");
  const empty = root.querySelector("[data-alerts-empty]");
  const playback = root.dataset.playbackUrl;
  const items = new Map(); // key -> {li, unseen}
  const MAX_ITEMS = 50;
  // The user's alerts not reviewed yet (the server counts them when the page opens; each new
  // one adds one): the badge's number, with the employee alerts not yet seen.
  let unreviewed = 0;

  function playbackUrl(camera, at) {
    if (!camera || !at) return null;
    return playback + "?camera=" + encodeURIComponent(camera) + "&at=" + encodeURIComponent(at);
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function refreshBadge() {
    let unseen = 0;
    for (const item of items.values()) if (item.unseen) unseen += 1;
    const count = unreviewed + unseen;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    button.setAttribute("aria-label", count ? "Alerts, " + count + " to look at" : "Alerts");
    empty.hidden = items.size > 0;
  }

  function upsert(key, { text, detail, url, resolved, unseen, kind }) {
    let item = items.get(key);
    // A repeated message (the same alert sent again) is not news; a change of state is.
    const news = !item || item.resolved !== !!resolved;
    if (!item) {
      const li = document.createElement("li");
      li.dataset.key = key;
      li.className = "alert-item alert-" + kind;
      list.prepend(li);
      item = { li, unseen: false };
      items.set(key, item);
      while (items.size > MAX_ITEMS) {
        const [oldest] = items.keys();
        items.get(oldest).li.remove();
        items.delete(oldest);
      }
    }
    item.li.replaceChildren();
    const link = document.createElement(url ? "a" : "span");
    if (url) link.href = url;
    link.textContent = text;
    const small = document.createElement("span");
    small.className = "muted";
    small.textContent = detail;
    item.li.append(link, document.createElement("br"), small);
    item.li.classList.toggle("resolved", !!resolved);
    item.resolved = !!resolved;
    if (news && unseen !== undefined) item.unseen = unseen;
    refreshBadge();
  }

  function alertItem(p, unseen) {
    const who = p.employee || "unknown";
    upsert("alert-" + p.id, {
      kind: "alert",
      text: (p.message || p.kind + ": " + who),
      detail: when(p.started) + (p.resolved ? " · resolved " + when(p.resolved) : "") + (p.camera ? " · " + p.camera : ""),
      url: p.url || playbackUrl(p.camera, p.started),
      resolved: !!p.resolved,
      unseen: p.resolved ? false : unseen,
    });
  }

  // A review alert: counted until the user marks it reviewed (Review page), not when seen here.
  function reviewItem(p, isNew) {
    const key = "review-" + p.id;
    if (isNew && !items.has(key)) unreviewed += 1;
    const before = new Date(new Date(p.start).getTime() - 5000).toISOString();
    upsert(key, {
      kind: "review",
      text: (p.labels.join(", ") || "object") + " on " + p.camera + (p.zones.length ? " in " + p.zones.join(", ") : ""),
      detail: when(p.start),
      url: playbackUrl(p.camera_slug, before),
      unseen: false,
    });
  }

  button.addEventListener("click", () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {  // seen once the menu is opened
      for (const item of items.values()) item.unseen = false;
      refreshBadge();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !menu.hidden) {
      button.click();
      button.focus();
    }
  });

  fetch(root.dataset.feed, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : { alerts: [], detections: [] }))
    .then((feed) => {
      unreviewed = feed.unreviewed || 0;
      (feed.review || []).slice().reverse().forEach((p) => reviewItem(p, false));
      feed.alerts.slice().reverse().forEach((p) => alertItem(p, !p.resolved));
      refreshBadge();
    })
    .catch(() => {});

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + root.dataset.dashboardSocket);
    ws.onopen = () => { delay = 1000; };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.event === "alert.created" || msg.event === "alert.resolved") alertItem(msg.payload, msg.event === "alert.created");
      else if (msg.event === "review.alert") reviewItem(msg.payload, true);
      window.dispatchEvent(new CustomEvent("ainvr:dashboard", { detail: msg }));
    };
    ws.onclose = () => {
      // Reconnect by itself: a restarted server or a dropped Wi-Fi must not need a reload.
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  if (document.querySelector("[data-tile]")) {
    // The live grid opens its video sockets first (live.js says when), or 2 s at most.
    let started = false;
    const start = () => { if (!started) { started = true; connect(); } };
    window.addEventListener("ainvr:live-sockets-open", start, { once: true });
    setTimeout(start, 2000);
  } else {
    connect();
  }
})();
