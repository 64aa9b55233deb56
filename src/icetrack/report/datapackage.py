"""The ``datapackage.json`` of an ``icetrack export``: a Frictionless Data Package
(https://specs.frictionlessdata.io/data-package/) whose resources are the exported files, each with a Table
Schema (https://specs.frictionlessdata.io/table-schema/: field names, types, titles, descriptions), the measure's
unit, label and catalogue definition (:data:`icetrack.domain.catalogue.CATALOGUE`), and its sources: every
edition its rows come from, with file name, sha256, original URL, publication and as-of dates. The package
states the icetrack version that wrote it, under ``icetrack``. The published outcome tables' resources are
described by :mod:`icetrack.report.export_outcomes`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

MEDIATYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dta": "application/x-stata-dta",
}
SOURCE_FIELDS = ("edition_id", "source", "publisher", "title", "file_name", "sha256", "original_url",
                 "published_on", "as_of", "synthetic")
STATA_LABEL_MAX = 80
# Stated, not sniffed: a note with ';' or ':' in every row must not pass for a delimiter.
CSV_DIALECT = {"encoding": "utf-8", "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True,
                                                "lineTerminator": "\r\n", "header": True}}

# Field -> (Table Schema type, title (also the Stata variable label, <= 80 characters), description).
FIELDS: dict[str, tuple[str, str, str]] = {
    "measure": ("string", "Measure", "icetrack measure name; its definition is this resource's 'definition'."),
    "period_start": ("date", "First day of the reference period", "First day of the period the figure describes."),
    "period_end": ("date", "Last day of the reference period", "Last day of the period the figure describes."),
    "grain": ("string", "Kind of period", "day, week, month, fytd (fiscal year to date, from October 1), "
              "fiscal_year, snapshot (one day) or period (a range the publisher states)."),
    "value": ("number", "Value", "The figure, in this resource's 'unit'."),
    "unit": ("string", "Unit of value", "Unit of the value."),
    "edition_id": ("string", "Edition the value comes from", "The published file the value comes from "
                   "(source and the first 16 hex digits of its sha256); described in this resource's 'sources'."),
    "as_of": ("date", "Data date of the edition", "When the source system was queried for that edition (empty "
              "when unknown)."),
    "published_on": ("date", "Publication date of the edition", "When that edition was published (empty when "
                     "unknown)."),
    "source_url": ("string", "Where the edition was published", "URL(s) of the published file, space-separated "
                   "when several."),
    "note": ("string", "Note on the value", "What the publisher or icetrack states about this value (a partial "
             "month, an inferred reading...); empty when nothing."),
    "synthetic": ("boolean", "Synthetic (generated) figure", "True for figures of a generated SYNTHETIC release, "
                  "never published by ICE."),
    "n_editions": ("integer", "Number of editions", "How many loaded editions published this figure."),
    "first_value": ("number", "First published value", "The value of the first edition that published the figure "
                    "(publication order: publication date, else as-of date)."),
    "first_edition_id": ("string", "Edition of the first value", "The edition of first_value."),
    "latest_value": ("number", "Latest value", "The value the latest vintage picks (the edition with the latest "
                     "as-of date), as `icetrack series`."),
    "latest_edition_id": ("string", "Edition of the latest value", "The edition of latest_value."),
    "min_value": ("number", "Minimum value", "The smallest value any edition published for the figure."),
    "max_value": ("number", "Maximum value", "The largest value any edition published for the figure."),
}
DTA_NOTES = {"synthetic": ("integer", "1 for a figure of a generated SYNTHETIC release, 0 otherwise."),
             "date": "A Stata daily date (%td)."}


def fields(table, measure: dict[str, Any], fmt: str = "parquet") -> list[dict[str, Any]]:
    """The Table Schema fields of one exported table, in column order."""
    out = []
    for col in table.frame.columns:
        if col in table.dims:
            name = table.dims[col]
            f = {"name": col, "type": "string", "title": f"Dimension: {name}",
                 "description": f"The figure's '{name}' (empty when the figure has no such dimension).",
                 "dimension": name}
        else:
            kind, title, description = FIELDS[col]
            if col in ("value", "first_value", "latest_value", "min_value", "max_value"):
                title = f"{title}: {measure['label']} ({measure['unit']})"
            f = {"name": col, "type": kind, "title": title, "description": description}
            if fmt == "dta" and col in DTA_NOTES:
                f["type"], f["description"] = DTA_NOTES[col]
            elif fmt == "dta" and kind == "date":
                f["description"] += " " + DTA_NOTES["date"]
            if fmt == "dta" and kind == "string":
                f["description"] += " Stata has no missing text: empty is \"\"."
        out.append(f)
    return out


def stata_label(f: dict[str, Any]) -> str:
    """A field's title (else description) cut to Stata's 80 characters."""
    text = " ".join(str(f.get("title") or f.get("description") or "").split())
    return text if len(text) <= STATA_LABEL_MAX else text[:STATA_LABEL_MAX - 3].rstrip() + "..."


def write_stata(frame, path, dates: list[str], fields: list[dict[str, Any]], data_label: str) -> None:
    """A resource as a Stata 14+ file (format 118, UTF-8): ``dates`` as Stata daily dates, missing text as "",
    text longer than a str# holds as strL, variable labels from the resource's ``fields``. Numbers, booleans and
    dates are the caller's to convert (each resource knows its own types)."""
    frame = frame.copy()
    text = [c for c in frame.columns if frame[c].dtype == object and c not in dates]
    for c in text:
        frame[c] = frame[c].fillna("").astype(str)
    long_text = [c for c in text if max(map(lambda v: len(v.encode("utf-8")), frame[c]), default=0) > 2045]
    frame.to_stata(path, write_index=False, version=118, convert_dates={c: "td" for c in dates},
                   variable_labels={f["name"]: stata_label(f) for f in fields},
                   data_label=stata_label({"description": data_label}), convert_strl=long_text)


def source(edition: dict[str, Any]) -> dict[str, Any]:
    """One edition as a Data Package source (title, path = the original URL) with its identity and dates."""
    out = {"title": edition.get("file_name") or edition["edition_id"]}
    if edition.get("original_url"):
        out["path"] = edition["original_url"]
    out.update({k: edition.get(k) for k in SOURCE_FIELDS})
    return out


def resource(table, measure: dict[str, Any], path: str, fmt: str,
             editions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One exported file as a tabular data resource."""
    revisions = table.kind == "revisions"
    out = {
        "name": table.name.lower(),
        "path": path,
        "profile": "tabular-data-resource",
        "format": fmt,
        "mediatype": MEDIATYPES[fmt],
        "title": measure["label"] + (" - revisions across editions" if revisions else ""),
        "description": (("Per figure (dimensions, period): the number of editions that published it, its first, "
                         "latest, minimum and maximum value. ") if revisions else "") + (measure["definition"] or ""),
    }
    if fmt == "csv":
        out.update(CSV_DIALECT)
    out.update({
        "schema": {"fields": fields(table, measure, fmt)},
        "measure": measure["measure"],
        "unit": measure["unit"],
        "concept": measure.get("concept"),
        "definition": measure["definition"],
        "fiscal_years": measure.get("fiscal_years", []),
        "rows": len(table.frame),
        "sources": [source(editions[e]) for e in sorted(table.edition_ids) if e in editions],
    })
    return out


def package(resources: list[dict[str, Any]], vintage: str, version: str,
            outcomes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data package: every resource and, once each, every source edition they cite. ``outcomes``: the
    threshold and synthetic flag of the published outcome tables, when the export holds any."""
    sources: dict[str, dict[str, Any]] = {}
    for r in resources:
        for s in r["sources"]:
            sources.setdefault(s["edition_id"], s)
    published = ("" if not outcomes else
                 " With the outcome tables published from person-level releases (outcomes_*): aggregates only, "
                 f"cells under {outcomes['threshold']} suppressed; no person-level record is included."
                 + (" They come from a SYNTHETIC release." if outcomes.get("synthetic") else ""))
    return {
        "profile": "tabular-data-package",
        "name": "icetrack-export",
        "title": "icetrack export: U.S. immigration enforcement figures from the public record",
        "description": ("Aggregate figures as loaded in an icetrack warehouse, one row per figure, with the "
                        "edition each value comes from, and per measure a table of how each figure was revised "
                        f"across editions. Vintage: {vintage}.{published}"),
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "icetrack": {"version": version, "vintage": vintage, **({"outcomes": outcomes} if outcomes else {})},
        "sources": sorted(sources.values(), key=lambda s: (s.get("as_of") or s.get("published_on") or "",
                                                           s["edition_id"])),
        "resources": resources,
    }
