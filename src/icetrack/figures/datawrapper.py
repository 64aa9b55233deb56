"""Datawrapper-ready CSVs of the charts: one wide table per chart (its x values in the first column, one column
per series), taken from the chart's own Vega-Lite spec, so every cell is a value the chart plots, with the
chart's title, source and notes in a last ``Source`` column.

Why the source is a column and not a note above the header: Datawrapper reads the first line of an upload as the
header row and skips no comment lines (its parser, ``libs/chart-core/lib/dw/dataset/delimited.mjs`` in
github.com/datawrapper/datawrapper, takes ``firstRowIsHeader`` with ``skipRows: 0`` and sizes the table by the
first row; its Academy tutorials ask for "one header row"), so a ``# note`` line on top would become the column
names and hide every series. A text column is listed in Datawrapper's data step but not drawn as a series
(its charts draw number columns), and pandas, R and spreadsheets read the file as it is.

The table is read off the spec's layers: the x field (after its time unit) is the row; the colour field (and a
facet or panel title) names the column; y, and y2 for a band, are the cells (summed or counted when the chart
aggregates). A target or rule drawn over a date range fills its column on every row in that range (its ends
added as rows); one drawn across the whole chart fills every row. A map is the table it is coloured by, one
row per key (a state's code). Text labels, which repeat a plotted value, a vertical marker at one x and the
y = x reference line carry no further figure and are left out.
"""

from __future__ import annotations

import io
import math
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from icetrack.figures.csv_cells import write_csv
from icetrack.figures.result import http_url

SOURCE_COLUMN = "Source"
SKIPPED_MARKS = {"text"}  # labels repeating a plotted value (or naming a rule: see _rule_labels)
STYLE_ONLY_COLOURS = {"part_of_week"}  # shades the daily bars of one series (weekday/weekend): one column
AGGREGATES = {"sum": sum, "count": len, "mean": statistics.fmean, "average": statistics.fmean,
              "median": statistics.median, "min": min, "max": max}
URLS_PER_SOURCE = 3  # distinct URLs named per publisher; beyond them, the latest edition's
SLUG_LENGTH = 80
LINE, BAND, REFERENCE = 0, 1, 2  # kinds of column: one value per x, a band's end, a target or rule


class CannotTabulate(ValueError):
    """The chart draws something a wide table cannot hold (an unsupported transform or two values in one cell)."""


@dataclass
class _Unit:
    """One mark of the chart with the data it draws and what names its series (facet fields, panel title)."""

    mark: str
    encoding: dict[str, Any]
    rows: list[dict[str, Any]]
    data_id: str
    facets: tuple[str, ...] = ()
    panel: str | None = None


@dataclass
class _Table:
    """Cells by (row key, column name); ranges and whole-chart values until they are filled in; each column's
    kind, in order of first appearance."""

    key_name: str | None = None
    cells: dict[tuple[Any, str], Any] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # column -> LINE, BAND or REFERENCE, in order of appearance
    spans: list[tuple[Any, Any, str, Any]] = field(default_factory=list)  # (start, end, column, value)
    everywhere: list[tuple[str, Any]] = field(default_factory=list)  # (column, value) on every row

    def register(self, column: str, kind: int) -> None:
        self.kinds.setdefault(column, kind)

    def columns(self) -> list[str]:
        """Each line, then its band (the same name with '(low)' ...), then the other bands, then targets and rules."""
        lines = [c for c, k in self.kinds.items() if k == LINE]
        bands = [c for c, k in self.kinds.items() if k == BAND]
        out = []
        for line in lines:
            out += [line, *(b for b in bands if b.startswith(line + " (") and b not in out)]
        out += [b for b in bands if b not in out]
        return out + [c for c, k in self.kinds.items() if k == REFERENCE]

    def put(self, key: Any, column: str, value: Any) -> None:
        if (key, column) in self.cells and self.cells[key, column] != value:
            raise CannotTabulate(f"two values for '{column}' at {key}: {self.cells[key, column]} and {value}")
        self.cells[key, column] = value

    def keys(self) -> list[Any]:
        found = {k for k, _ in self.cells} | {s[0] for s in self.spans} | {s[1] for s in self.spans}
        return sorted(found, key=_sort_key)


# -- walking the spec -------------------------------------------------------------------------------------
def _title_text(title: Any) -> str | None:
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title) if title else None


def _units(node: dict[str, Any], datasets: dict[str, list], data: tuple[str, list] | None = None,
           encoding: dict[str, Any] | None = None, facets: tuple[str, ...] = (),
           panel: str | None = None) -> Iterator[_Unit]:
    """Every mark of ``node`` with its data (inherited from the enclosing chart unless it has its own)."""
    if "data" in node:
        ref = node["data"]
        name = ref.get("name") or f"values-{id(ref)}"
        data = (name, datasets.get(ref["name"], []) if "name" in ref else ref.get("values", []))
    encoding = {**(encoding or {}), **node.get("encoding", {})}
    if "facet" in node:
        facet = node["facet"]
        facets += tuple(f["field"] for f in (facet.get("row"), facet.get("column"), facet) if f and "field" in f)
        yield from _units(node["spec"], datasets, data, encoding, facets, panel)
        return
    for key in ("vconcat", "hconcat", "concat"):
        for child in node.get(key, []):
            yield from _units(child, datasets, data, encoding, facets, _title_text(child.get("title")) or panel)
    for child in node.get("layer", []):
        yield from _units(child, datasets, data, encoding, facets, panel)
    if "mark" in node:
        if _mark_type(node) == "geoshape":
            yield from _choropleth(node, encoding, datasets)
            return
        if node.get("transform"):
            if _mark_type(node) in SKIPPED_MARKS:
                return
            raise CannotTabulate(f"a {_mark_type(node)} mark with a transform cannot be tabulated")
        if data is None:
            raise CannotTabulate("a mark without data")
        yield _Unit(_mark_type(node), encoding, data[1], data[0], facets, panel)


def _choropleth(node: dict[str, Any], encoding: dict[str, Any], datasets: dict[str, list]) -> Iterator[_Unit]:
    """A map's shapes coloured by a looked-up table (ADP by state) as that table, one row per key it is joined on
    (a state's code); shapes drawn without a figure (the grey base map) yield nothing."""
    lookup = next((t for t in node.get("transform", []) if "lookup" in t), None)
    colour = encoding.get("color")
    if lookup is None or not _field(colour):
        return
    source, key = lookup["from"]["data"], lookup["from"]["key"]
    rows = datasets.get(source["name"], []) if "name" in source else source.get("values", [])
    yield _Unit("geoshape", {"x": {"field": key, "type": "nominal"}, "y": colour}, rows, f"lookup-{key}")


def _mark_type(node: dict[str, Any]) -> str:
    mark = node["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def _field(enc: Any) -> str | None:
    return enc.get("field") if isinstance(enc, dict) else None


def _is_measure(enc: Any) -> bool:
    return isinstance(enc, dict) and (enc.get("type") == "quantitative" or "aggregate" in enc)


# -- one layer --------------------------------------------------------------------------------------------
@dataclass
class _Layer:
    """How one unit reads as table cells: its key channel (None: drawn across the whole chart), the end of a
    range it spans, its value encodings and the fields that name its series."""

    unit: _Unit
    key: dict[str, Any] | None
    key_end: str | None
    values: list[dict[str, Any]]
    series: list[str]

    @property
    def value_fields(self) -> list[str]:
        return [_field(v) or v.get("aggregate", "") for v in self.values]


def _layer(unit: _Unit, colour_fields: set[str]) -> _Layer | None:
    """``unit`` as a layer of the table, or None when it carries no figure of its own."""
    enc = unit.encoding
    if unit.mark in SKIPPED_MARKS:
        return None
    x, y = enc.get("x"), enc.get("y")
    if _is_measure(y) and not (isinstance(x, dict) and "aggregate" in x):
        key_channel, value_channels = "x", ("y", "y2")
    elif _is_measure(x) and y is not None and not _is_measure(y):
        key_channel, value_channels = "y", ("x", "x2")
    elif y is None and _field(x):
        return None  # a marker at one x (the back-test's cut-off): a date, no figure
    else:
        raise CannotTabulate(f"a {unit.mark} mark without a measure to tabulate")
    key = enc.get(key_channel) if _field(enc.get(key_channel)) else None
    key_end = _field(enc.get(key_channel + "2")) if key else None
    values = [enc[c] for c in value_channels if isinstance(enc.get(c), dict) and
              (_field(enc[c]) or "aggregate" in enc[c])]
    layer = _Layer(unit, key, key_end, values, _series_fields(unit, key, key_end, colour_fields))
    if len(layer.values) == 1 and key and _identity(layer):
        return None  # the y = x reference line of a calibration chart: no figure
    return layer


def _series_fields(unit: _Unit, key: dict[str, Any] | None, key_end: str | None,
                   colour_fields: set[str]) -> list[str]:
    """The fields whose values name a row's column: the colour field; without one, the series field the other
    layers colour by when it holds one value here (a band drawn for one series); for a target or rule (over a
    range or the whole chart), its first text tooltip field (the target's label)."""
    colour = _field(unit.encoding.get("color"))
    if colour and colour not in STYLE_ONLY_COLOURS and colour != _field(key):
        return [colour]
    if colour:
        return []
    for name in sorted(colour_fields):
        if unit.rows and all(name in r for r in unit.rows) and len({r[name] for r in unit.rows}) == 1:
            return [name]
    if key is None or key_end:
        tips = unit.encoding.get("tooltip", [])
        for tip in tips if isinstance(tips, list) else [tips]:
            if isinstance(tip, dict) and tip.get("type") == "nominal" and _field(tip):
                return [tip["field"]]
    return []


def _identity(layer: _Layer) -> bool:
    x, y = _field(layer.key), layer.value_fields[0]
    pairs = [(r.get(x), r.get(y)) for r in layer.unit.rows]
    return bool(pairs) and all(isinstance(a, (int, float)) and a == b for a, b in pairs)


def _key_value(row: dict[str, Any], enc: dict[str, Any], name: str | None = None) -> Any:
    """The row's key as the table writes it: a date (after the encoding's time unit), a number or a text."""
    value = row.get(name or enc["field"])
    unit = enc.get("timeUnit")
    if unit is None and enc.get("type") != "temporal":
        return value
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if unit == "year":
        stamp = stamp.replace(month=1, day=1)
    elif unit == "yearmonth":
        stamp = stamp.replace(day=1)
    return stamp.date()  # other units (a week) keep the data's own date


def _sort_key(key: Any) -> tuple:
    if isinstance(key, date):
        return (0, key.toordinal(), "")
    if isinstance(key, (int, float)):
        return (1, key, "")
    return (2, 0, str(key))


# -- naming columns ---------------------------------------------------------------------------------------
def _field_labels(units: list[_Unit]) -> dict[str, str]:
    """Each field's title where a tooltip gives one (the projection's 'median', '5th percentile' ...)."""
    labels: dict[str, str] = {}
    for unit in units:
        tips = unit.encoding.get("tooltip", [])
        for tip in tips if isinstance(tips, list) else [tips]:
            if isinstance(tip, dict) and tip.get("title") and _field(tip):
                labels.setdefault(tip["field"], str(tip["title"]))
    return labels


def _rule_labels(units: list[_Unit]) -> dict[str, str]:
    """The constant text a chart writes beside a rule (``funded beds 41,500``), by the data both draw."""
    return {u.data_id: str(u.encoding["text"]["value"]) for u in units if u.mark == "text"
            and isinstance(u.encoding.get("text"), dict) and "value" in u.encoding["text"]}


def _column(layer: _Layer, row: dict[str, Any], value: dict[str, Any], labels: dict[str, str],
            rule_labels: dict[str, str]) -> str:
    unit = layer.unit
    parts = [unit.panel] if unit.panel else []
    parts += [str(row.get(f)) for f in unit.facets]
    parts += [str(row.get(f)) for f in layer.series]
    name = _field(value) or ""
    label = labels.get(name) or name.replace("_", " ")
    if len(layer.values) > 1:
        return f"{': '.join(parts)} ({label})" if parts else label
    if parts:
        return ": ".join(parts)
    if (layer.key is None or layer.key_end) and unit.data_id in rule_labels:
        return rule_labels[unit.data_id]
    return labels.get(name) or _title_text(value.get("title")) or label


# -- the table --------------------------------------------------------------------------------------------
def _cell(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _in_legend_order(layer: _Layer) -> list[dict[str, Any]]:
    """The layer's rows with its series in the order of the chart's legend (the colour scale's domain or sort),
    so that the columns come in that order."""
    colour = layer.unit.encoding.get("color")
    order = colour.get("scale", {}).get("domain") or colour.get("sort") if isinstance(colour, dict) else None
    if not isinstance(order, list) or _field(colour) not in layer.series:
        return layer.unit.rows
    rank = {str(v): i for i, v in enumerate(order)}
    panels: dict[tuple, int] = {}  # each facet's series stay together, facets in order of appearance
    for row in layer.unit.rows:
        panels.setdefault(tuple(row.get(f) for f in layer.unit.facets), len(panels))
    return sorted(layer.unit.rows, key=lambda r: (panels[tuple(r.get(f) for f in layer.unit.facets)],
                                                  rank.get(str(r.get(_field(colour))), len(rank))))


def _add(table: _Table, layer: _Layer, labels: dict[str, str], rule_labels: dict[str, str]) -> None:
    rows = _in_legend_order(layer)
    if any("aggregate" in v for v in layer.values):
        rows = _aggregated(layer, rows, labels, rule_labels)
    kind = REFERENCE if layer.key is None or layer.key_end else BAND if len(layer.values) > 1 else LINE
    for row in rows:
        for value in layer.values:
            column = row.get("__column__") or _column(layer, row, value, labels, rule_labels)
            cell = _cell(row["__value__"] if "__value__" in row else row.get(_field(value)))
            if cell is None:
                continue  # not drawn: a blank, never a zero
            table.register(column, kind)
            if layer.key is None:
                table.everywhere.append((column, cell))
            elif layer.key_end:
                start, end = _key_value(row, layer.key), _key_value(row, layer.key, layer.key_end)
                table.spans.append((start, end, column, cell))
            else:
                table.put(_key_value(row, layer.key), column, cell)
    if layer.key and table.key_name is None and not layer.key_end:
        table.key_name = _title_text(layer.key.get("title")) or layer.key["field"]


def _aggregated(layer: _Layer, rows: list[dict[str, Any]], labels: dict[str, str],
                rule_labels: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of an aggregating mark (stacked bars of summed book-outs, a count of verdicts) as the chart
    computes them: one per (key, column)."""
    (value,) = layer.values
    groups: dict[tuple[Any, str], list[Any]] = {}
    first: dict[tuple[Any, str], dict[str, Any]] = {}
    for row in rows:
        group = (_key_value(row, layer.key) if layer.key else None, _column(layer, row, value, labels, rule_labels))
        groups.setdefault(group, []).append(row.get(_field(value)) if _field(value) else 1)
        first.setdefault(group, row)
    op = AGGREGATES.get(value["aggregate"])
    if op is None:
        raise CannotTabulate(f"aggregate '{value['aggregate']}' is not supported")
    out = []
    for (key, column), values in groups.items():
        present = [v for v in values if v is not None]
        out.append({**first[key, column], "__column__": column, "__value__": op(present) if present else None})
    return out


def _fill(table: _Table) -> None:
    """Ranges (a goal in force, funded beds) on every row they cover, their ends included; whole-chart rules
    (a target, a bed count) on every row."""
    keys = table.keys()
    for start, end, column, value in table.spans:
        for key in keys:
            if _sort_key(start) <= _sort_key(key) <= _sort_key(end):
                table.put(key, column, value)
    for column, value in table.everywhere:
        for key in keys:
            table.put(key, column, value)


def wide_table(chart_spec: dict[str, Any]) -> pd.DataFrame:
    """The chart's data as one wide table: the key (x) in the first column, one column per series, blanks
    where the chart draws nothing (CannotTabulate when the chart cannot be read as one)."""
    units = list(_units(chart_spec, chart_spec.get("datasets", {})))
    labels, rule_labels = _field_labels(units), _rule_labels(units)
    colour_fields = {f for u in units if (f := _field(u.encoding.get("color"))) and f not in STYLE_ONLY_COLOURS}
    table, seen = _Table(), []
    for unit in units:
        layer = _layer(unit, colour_fields)
        if layer is None:
            continue
        colour = _field(unit.encoding.get("color"))
        signature = (unit.data_id, unit.facets, unit.panel, _field(layer.key), layer.key_end, colour)
        fields = set(layer.value_fields)
        if any(s == signature and fields <= f for s, f in seen):
            continue  # the same figures drawn again (a rule on a band's low end, points on a line)
        seen.append((signature, fields))
        _add(table, layer, labels, rule_labels)
    _fill(table)
    if table.key_name is None:
        raise CannotTabulate("the chart has no x values to tabulate")
    keys = table.keys()
    frame = pd.DataFrame({table.key_name: keys})
    for column in table.columns():
        frame[column] = [table.cells.get((k, column)) for k in keys]
    return frame


# -- the file -----------------------------------------------------------------------------------------------
def chart_title(chart_spec: dict[str, Any]) -> str:
    return _title_text(chart_spec.get("title")) or "chart"


def chart_note(chart_spec: dict[str, Any]) -> str:
    """The lines the chart prints under its title (what it counts, what it leaves out), as one text."""
    title = chart_spec.get("title")
    lines = title.get("subtitle", []) if isinstance(title, dict) else []
    return " ".join(str(line).strip() for line in ([lines] if isinstance(lines, str) else lines) if line)


def _dates(editions: list[dict[str, Any]], key: str) -> list[str]:
    return sorted(str(e[key])[:10] for e in editions if e.get(key) and str(e[key]) not in ("NaT", "None"))


def _span(values: list[str]) -> str:
    return values[0] if values[0] == values[-1] else f"{values[0]} to {values[-1]}"


def _publisher_text(publisher: str, editions: list[dict[str, Any]]) -> str:
    """One publisher's editions: titles, how many, data and publication dates, public URLs."""
    editions = sorted(editions, key=lambda e: (str(e.get("as_of") or ""), str(e.get("published_on") or "")))
    titles = list(dict.fromkeys(str(e.get("title") or e.get("file_name") or "") for e in editions if
                                e.get("title") or e.get("file_name")))
    named = " / ".join(titles) if len(titles) <= 3 else f"{titles[0]} to {titles[-1]}"
    facts = [f"{len(editions)} edition{'s' if len(editions) != 1 else ''}"]
    if as_of := _dates(editions, "as_of"):
        facts.append(f"data as of {_span(as_of)}")
    if published := _dates(editions, "published_on"):
        facts.append(f"published {_span(published)}")
    urls = list(dict.fromkeys(u for e in editions if (u := http_url(e.get("original_url")))))
    if len(urls) > URLS_PER_SOURCE:
        urls = [f"latest {urls[-1]}"]
    text = f"{publisher}: {named} ({', '.join(facts)})" if named else f"{publisher} ({', '.join(facts)})"
    return ", ".join([text, *urls])


def source_line(editions: list[dict[str, Any]], synthetic: bool = False) -> str:
    """'Source: ' and each publisher with its editions (titles, count, data and publication dates, original
    URLs), in order of publisher; said SYNTHETIC when any edition is generated."""
    if not editions:
        return "Source: no source editions."
    by_publisher: dict[str, list[dict[str, Any]]] = {}
    for e in editions:
        by_publisher.setdefault(str(e.get("publisher") or e.get("source") or "unknown publisher"), []).append(e)
    parts = [_publisher_text(p, eds) for p, eds in sorted(by_publisher.items())]
    flagged = synthetic or any(e.get("synthetic") for e in editions)
    return "Source: " + "; ".join(parts) + "." + (" SYNTHETIC DATA: generated, not from ICE." if flagged else "")


def _text(value: Any) -> Any:
    """A cell as Datawrapper reads it: ISO dates, numbers without thousands separators (whole ones without a
    decimal point), blanks for nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def csv_text(chart_spec: dict[str, Any], editions: list[dict[str, Any]], title: str | None = None,
             synthetic: bool = False) -> str:
    """The chart as a Datawrapper-ready CSV: the header row first, then one row per x value; the last column,
    ``Source``, holds in its first cell the chart's title, its source line and the notes it prints."""
    frame = wide_table(chart_spec)
    title = title or chart_title(chart_spec)
    note = chart_note(chart_spec)
    about = f"{title.rstrip('.')}. {source_line(editions, synthetic)}" + (f" Note: {note}" if note else "")
    source_column = SOURCE_COLUMN
    while source_column in frame.columns:
        source_column += "_"
    columns = [*frame.columns, source_column]
    rows = [{c: _text(v) for c, v in zip(frame.columns, values)} for values in frame.itertuples(index=False)]
    for i, row in enumerate(rows):
        row[source_column] = about if i == 0 else None
    out = io.StringIO()
    write_csv(out, rows, columns, lineterminator="\n")
    return out.getvalue()


def file_name(title: str) -> str:
    """``title`` as a file name: lower-case words joined by hyphens, then ``.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(slug) > SLUG_LENGTH:
        slug = slug[:SLUG_LENGTH + 1].rsplit("-", 1)[0]  # whole words only
    return f"{slug or 'chart'}.csv"
