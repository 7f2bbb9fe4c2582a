// The live layout editor: lays the tile pickers (slot_0..slot_15) out as the grid of the
// layout's columns x rows, offers grid presets, and shows a camera chosen over a rectangle
// of tiles as one large tile (as the live grid will), its picker setting all of them.
// The admin loads it in <head>: it starts once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const editor = document.querySelector("[data-layout-editor]");
  if (!editor) return;
  const grid = editor.querySelector("[data-layout-grid]");
  const tiles = Array.from(editor.querySelectorAll("[data-tile]"));
  const selects = tiles.map((t) => t.querySelector("select"));
  const columnsInput = document.getElementById("id_columns");
  const rowsInput = document.getElementById("id_rows");
  let span = null; // a preset's big tile (positions), kept while its pickers agree

  function size() {
    const c = Math.min(4, Math.max(1, parseInt(columnsInput.value, 10) || 1));
    const r = Math.min(4, Math.max(1, parseInt(rowsInput.value, 10) || 1));
    return { c, r };
  }

  // Positions of one rectangle: [top, left, height, width], or null when scattered.
  function rectangle(positions, c) {
    const rows = positions.map((p) => Math.floor(p / c));
    const cols = positions.map((p) => p % c);
    const top = Math.min(...rows), left = Math.min(...cols);
    const h = Math.max(...rows) - top + 1, w = Math.max(...cols) - left + 1;
    return h * w === positions.length ? [top, left, h, w] : null;
  }

  function groups(c, capacity) {
    const byCamera = new Map();
    for (let p = 0; p < capacity; p++) {
      const v = selects[p].value;
      if (v) byCamera.set(v, (byCamera.get(v) || []).concat([p]));
    }
    const result = [];
    byCamera.forEach((positions) => { if (positions.length > 1 && rectangle(positions, c)) result.push(positions); });
    if (span && span.every((p) => p < capacity && selects[p].value === selects[span[0]].value)) {
      if (!result.some((g) => g.includes(span[0]))) result.push(span);
    } else {
      span = null;
    }
    return result;
  }

  function render() {
    const { c, r } = size();
    const capacity = c * r;
    grid.style.gridTemplateColumns = `repeat(${c}, minmax(0, 1fr))`;
    const covered = new Map(); // position -> its group's leader
    groups(c, capacity).forEach((g) => g.forEach((p) => covered.set(p, g[0])));
    tiles.forEach((tile, p) => {
      const select = selects[p];
      if (p >= capacity) {
        select.value = ""; // outside the grid: nothing to show there
        tile.hidden = true;
        return;
      }
      const leader = covered.has(p) ? covered.get(p) : p;
      tile.hidden = leader !== p;
      const group = covered.has(p) ? Array.from(covered.keys()).filter((q) => covered.get(q) === p) : [p];
      const rect = rectangle(group, c) || [Math.floor(p / c), p % c, 1, 1];
      tile.style.gridRow = `${rect[0] + 1} / span ${rect[2]}`;
      tile.style.gridColumn = `${rect[1] + 1} / span ${rect[3]}`;
      tile.dataset.group = group.join(",");
      tile.classList.toggle("filled", Boolean(select.value));
    });
    editor.querySelectorAll("[data-preset]").forEach((b) => {
      const same = +b.dataset.columns === c && +b.dataset.rows === r && (b.dataset.span || "") === (span ? span.join(",") : "");
      b.setAttribute("aria-pressed", String(same));
    });
  }

  tiles.forEach((tile, p) => {
    selects[p].addEventListener("change", () => {
      // A large tile's picker speaks for every tile under it.
      (tile.dataset.group || String(p)).split(",").map(Number).forEach((q) => { selects[q].value = selects[p].value; });
      render();
    });
  });
  editor.querySelectorAll("[data-preset]").forEach((button) => {
    button.addEventListener("click", () => {
      columnsInput.value = button.dataset.columns;
      rowsInput.value = button.dataset.rows;
      span = button.dataset.span ? button.dataset.span.split(",").map(Number) : null;
      if (span) span.forEach((q) => { selects[q].value = selects[span[0]].value; });
      render();
    });
  });
  columnsInput.addEventListener("input", render);
  rowsInput.addEventListener("input", render);
  render();
});
