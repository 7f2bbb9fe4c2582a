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
})();
