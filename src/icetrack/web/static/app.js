// Dashboard charts: read the filter form, draw each chart from the JSON API (fetchAndEmbed, embed.js), and keep the page URL, permalinks and download links in
// step with the filters so that any view can be cited and reloaded.
"use strict";

function formFilters() {
  const form = document.getElementById("filters");
  const values = {};
  if (!form) return values;
  for (const el of form.elements) {
    if (el.name) values[el.name] = el.value;
  }
  return values;
}

function queryString(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  }
  return q.toString();
}

async function renderChart(box, filters) {
  const name = box.dataset.chart;
  const query = queryString(filters);
  const api = "/api/charts/" + name + (query ? "?" + query : "");
  // filters can change again before this response arrives: only the latest request may draw
  const request = (Number(box.dataset.request) || 0) + 1;
  box.dataset.request = request;
  const drawn = await fetchAndEmbed(box, api, "No chart for these filters.",
                                    () => Number(box.dataset.request) === request);
  if (!drawn) return;
  box.querySelector(".permalink").href = location.pathname + (query ? "?" + query : "") + "#" + box.id;
  box.querySelector(".download-csv").href = drawn.csv_url;
  box.querySelector(".download-datawrapper").href = "/api/charts/" + name + ".csv" + (query ? "?" + query : "");
  box.querySelector(".download-png").href = api + (query ? "&" : "?") + "format=png";
  box.querySelector(".download-svg").href = api + (query ? "&" : "?") + "format=svg";
  box.dataset.query = query;
  box.dataset.state = "ready";
}

function chartFilters(box, values) {
  // each chart takes only the filters it declares (the rest belong to the page's other charts)
  const own = JSON.parse(box.dataset.filters);
  const out = {};
  for (const k of Object.keys(own)) out[k] = own[k];
  for (const k of Object.keys(values)) {
    if (k in own) out[k] = values[k];
  }
  return out;
}

function refresh() {
  const values = formFilters();
  const query = queryString(values);
  history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  return Promise.all([...document.querySelectorAll(".chart-box")].map(
    (box) => renderChart(box, chartFilters(box, values))));
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  if (form) {
    form.addEventListener("change", refresh);
    form.addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  }
  refresh();
});
