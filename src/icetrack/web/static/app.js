// Dashboard charts: read the filter form, fetch the chart's spec from the JSON API, embed it with the
// bundled vega-embed (window.vegaEmbed; no CDN), and keep the page URL, permalinks and download links in
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
  const container = box.querySelector(".chart");
  const note = box.querySelector(".source-note");
  const api = "/api/charts/" + name + (query ? "?" + query : "");
  // filters can change again before this response arrives: only the latest request may draw
  const request = (Number(box.dataset.request) || 0) + 1;
  box.dataset.request = request;
  box.dataset.state = "loading";
  const response = await fetch(api);
  let result;
  try {
    result = await response.json();
  } catch (e) {
    result = { message: "The server could not draw this chart (HTTP " + response.status + ")." };
  }
  if (Number(box.dataset.request) !== request) return;
  if (!response.ok || !result.spec) {
    container.innerHTML = "";
    const p = document.createElement("p");
    p.className = "message";
    p.textContent = result.message || result.detail || "No chart for these filters.";
    container.appendChild(p);
    note.textContent = result.source_note || "";
    box.dataset.state = response.ok ? "empty" : "error";
    return;
  }
  // The page's Content-Security-Policy allows neither eval nor inline styles: ast evaluates Vega expressions
  // with the bundled interpreter instead of compiling them with Function, and the menu's and tooltip's
  // styles come from app.css instead of injected <style> elements.
  await window.vegaEmbed(container, result.spec, {
    actions: { export: true, source: false, compiled: false, editor: false },
    renderer: "svg",
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true },
  });
  if (Number(box.dataset.request) !== request) return;
  note.textContent = result.source_note;
  box.querySelector(".permalink").href = location.pathname + (query ? "?" + query : "") + "#" + box.id;
  box.querySelector(".download-csv").href = result.csv_url;
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
