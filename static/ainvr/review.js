// The Review page from the keyboard: j / k (or the arrows) move between items, Enter opens
// the one in focus in playback, r marks it reviewed, x selects it.
(function () {
  "use strict";

  const form = document.querySelector("[data-review-form]");
  if (!form) return;
  const items = [...form.querySelectorAll("[data-review-item]")];
  let at = -1;

  function focus(i) {
    if (!items.length) return;
    at = Math.min(items.length - 1, Math.max(0, i));
    items[at].focus();
    items[at].scrollIntoView({ block: "nearest" });
  }

  function markOne(item) {
    for (const box of form.querySelectorAll("[data-select]")) box.checked = false;
    item.querySelector("[data-select]").checked = true;
    form.requestSubmit(form.querySelector("[data-mark-selected]"));
  }

  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    const item = at >= 0 ? items[at] : null;
    if (e.key === "j" || e.key === "ArrowDown") { focus(at + 1); e.preventDefault(); }
    else if (e.key === "k" || e.key === "ArrowUp") { focus(at - 1); e.preventDefault(); }
    else if (e.key === "Enter" && item) { item.querySelector("[data-open]").click(); }
    else if (e.key === "r" && item) { markOne(item); }
    else if (e.key === "x" && item) { const box = item.querySelector("[data-select]"); box.checked = !box.checked; }
  });
  items.forEach((item, i) => item.addEventListener("focusin", () => { at = i; }));

  // A short preview where the pointer rests on a thumbnail (or the item has the keyboard's
  // focus): the recording's keyframes every 2 s of the item, from /playback/preview.jpg.
  const previewUrl = form.dataset.previewUrl;
  const PREVIEW_FRAMES = 8, PREVIEW_MS = 600;
  function play(item) {
    const thumb = item.querySelector("img.thumb");
    if (!thumb || item.previewTimer || item.noPreview) return;
    const start = new Date(item.dataset.start).getTime();
    const seconds = Number(item.dataset.seconds) || 2;
    const frames = Math.min(PREVIEW_FRAMES, Math.max(1, Math.ceil(seconds / 2)));
    const urls = [...Array(frames).keys()].map((k) => previewUrl + "?" + new URLSearchParams({
      camera: item.dataset.camera, at: new Date(start + k * 2000 + 500).toISOString(),
    }));
    item.still = thumb.src;
    let k = 0;
    const next = () => { thumb.src = urls[k % urls.length]; thumb.dataset.previewFrame = String(k % urls.length); k++; };
    next();
    item.previewTimer = setInterval(next, PREVIEW_MS);
  }
  function stop(item) {
    if (!item.previewTimer) return;
    clearInterval(item.previewTimer);
    item.previewTimer = null;
    const thumb = item.querySelector("img.thumb");
    thumb.src = item.still;
    delete thumb.dataset.previewFrame;
  }
  for (const item of items) {
    const thumb = item.querySelector("img.thumb");
    // Not recorded (or not yet indexed): the thumbnail stays.
    if (thumb) thumb.addEventListener("error", () => { if (item.previewTimer) { item.noPreview = true; stop(item); } });
    item.addEventListener("mouseenter", () => play(item));
    item.addEventListener("mouseleave", () => stop(item));
    item.addEventListener("focus", () => play(item));
    item.addEventListener("blur", () => stop(item));
  }
})();
