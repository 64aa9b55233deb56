// Shared by the dashboard (app.js) and the facility pages (facilities.js): fetch a chart answer from the JSON
// API and embed its spec with the bundled vega-embed (window.vegaEmbed; no CDN), or show its message.
"use strict";

// The page's Content-Security-Policy allows neither eval nor inline styles: ast evaluates Vega expressions
// with the bundled interpreter instead of compiling them with Function, and the menu's and tooltip's
// styles come from app.css instead of injected <style> elements.
const EMBED_OPTIONS = {
  actions: { export: true, source: false, compiled: false, editor: false },
  renderer: "svg",
  ast: true,
  defaultStyle: false,
  tooltip: { disableDefaultStyle: true },
};

// Draws the chart answer at `url` in `box` (its .chart and .source-note); returns the answer once drawn, or
// null when a message was shown instead or when stillCurrent() says a newer request has taken over the box.
async function fetchAndEmbed(box, url, emptyMessage, stillCurrent = () => true) {
  const container = box.querySelector(".chart");
  const note = box.querySelector(".source-note");
  box.dataset.state = "loading";
  const response = await fetch(url);
  let result;
  try {
    result = await response.json();
  } catch (e) {
    result = { message: "The server could not draw this chart (HTTP " + response.status + ")." };
  }
  if (!stillCurrent()) return null;
  if (!response.ok || !result.spec) {
    container.innerHTML = "";
    const p = document.createElement("p");
    p.className = "message";
    p.textContent = result.message || result.detail || emptyMessage;
    container.appendChild(p);
    note.textContent = result.source_note || "";
    box.dataset.state = response.ok ? "empty" : "error";
    return null;
  }
  await window.vegaEmbed(container, result.spec, EMBED_OPTIONS);
  if (!stillCurrent()) return null;
  note.textContent = result.source_note;
  return result;
}
