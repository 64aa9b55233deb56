// The facilities pages: tables sorted by clicking a column heading, the state filter applied on change, and the
// map / history chart fetched from the JSON API and embedded with the bundled vega-embed (window.vegaEmbed; no
// CDN, the same CSP-safe options as app.js).
"use strict";

function sortTable(table, th) {
  const index = [...th.parentNode.children].indexOf(th);
  const numeric = th.dataset.kind === "num";
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const value = (row) => row.children[index].dataset.value || "";
  const rows = [...body.rows];
  rows.sort((a, b) => {
    const x = value(a), y = value(b);
    if (numeric) {
      // blanks (no figure) always last
      if (x === "" || y === "") return (x === "") - (y === "");
      return ascending ? Number(x) - Number(y) : Number(y) - Number(x);
    }
    return ascending ? x.localeCompare(y) : y.localeCompare(x);
  });
  for (const row of rows) body.appendChild(row);
}

async function drawChart(box) {
  const container = box.querySelector(".chart");
  const note = box.querySelector(".source-note");
  box.dataset.state = "loading";
  const response = await fetch(box.dataset.chartUrl);
  let result;
  try {
    result = await response.json();
  } catch (e) {
    result = { message: "The server could not draw this chart (HTTP " + response.status + ")." };
  }
  if (!response.ok || !result.spec) {
    container.innerHTML = "";
    const p = document.createElement("p");
    p.className = "message";
    p.textContent = result.message || result.detail || "Nothing to draw.";
    container.appendChild(p);
    note.textContent = result.source_note || "";
    box.dataset.state = response.ok ? "empty" : "error";
    return;
  }
  await window.vegaEmbed(container, result.spec, {
    actions: { export: true, source: false, compiled: false, editor: false },
    renderer: "svg",
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true },
  });
  note.textContent = result.source_note;
  box.dataset.state = "ready";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.sortable")) {
    for (const th of table.tHead.rows[0].cells) {
      th.querySelector("button").addEventListener("click", () => sortTable(table, th));
    }
  }
  const state = document.getElementById("state-filter");
  if (state) state.addEventListener("change", () => state.form.submit());
  for (const box of document.querySelectorAll(".facility-chart")) drawChart(box);
});
