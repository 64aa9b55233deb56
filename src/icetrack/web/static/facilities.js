// The facilities pages: tables sorted by clicking a column heading, the state filter applied on change, and the
// map / history chart drawn from the JSON API by fetchAndEmbed (embed.js, shared with the dashboard).
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
  if (await fetchAndEmbed(box, box.dataset.chartUrl, "Nothing to draw.")) box.dataset.state = "ready";
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
