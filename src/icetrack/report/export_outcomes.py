"""The published outcome tables of an ``icetrack export``, when the warehouse holds person-level releases.

Four tables, each the published (small-cell suppressed) table :mod:`icetrack.figures.outcomes` returns - the
rows ``icetrack outcomes ... --csv`` prints and the API serves, value for value:

- ``outcomes_flows_month``: arrests, book-ins and removals per month and release (``outcomes flows``);
- ``outcomes_funnel_month``: the state of each monthly arrest cohort at the release cut-off, no breakdown
  (``outcomes funnel``);
- ``outcomes_survival_arrest_km`` and ``outcomes_survival_arrest_cif``: time from arrest to removal
  (Kaplan-Meier) and the cumulative incidence of removal, release and transfer (``outcomes km`` / ``cif``).

Two columns are added to the published ones: ``synthetic`` and ``suppressed`` (the row's columns left blank
by the suppression, space-separated), so a reader of the file alone can tell a suppressed cell from a zero. A
suppressed cell is empty (null in Parquet, missing in Stata), never a number. The threshold is the project's
default (:data:`THRESHOLD`) and cannot be lowered here: an export is a publication. Nothing else person-level
is written - no identifier, record or row per person ever reaches these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from icetrack.figures import outcomes as figure
from icetrack.figures.result import NotFound
from icetrack.metrics.outcomes import CAUSES, STATES
from icetrack.metrics.published import DEFAULT_THRESHOLD, FLOW_KINDS, SIZE
from icetrack.report import datapackage as dp
from icetrack.warehouse.engines import duckdb_tables

OUTCOMES = "outcomes"  # the name that asks for these tables among the MEASUREs of `icetrack export`
THRESHOLD = DEFAULT_THRESHOLD
CIF_KEYS = ("cif", "ci_lower", "ci_upper")
ARROW_TYPES = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(),
               "string": pa.string()}

# Column -> (Table Schema type, title (also the Stata variable label), description); the per-state and
# per-cause columns are filled in by :func:`_field`.
FIELDS: dict[str, tuple[str, str, str]] = {
    "release_id": ("string", "Person-level release", "The FOIA (or synthetic) release the row counts; "
                   "described in this resource's 'releases'."),
    "period_start": ("date", "First day of the month", "First day of the calendar month counted."),
    "arrests": ("integer", "Arrests", "Arrests dated in the period (every arrest record, with or without an "
                "identifier). Empty when suppressed."),
    "book_ins": ("integer", "Book-ins", "Detention book-ins (stays) starting in the period. Empty when "
                 "suppressed."),
    "removals": ("integer", "Removals", "Removals (departures) dated in the period. Empty when suppressed."),
    "cutoff": ("date", "Release cut-off", "The release's data cut-off: states are as of this date."),
    "cohort": ("string", "Arrest cohort (month)", "First day (yyyy-mm-dd) of the month of arrest of the "
               "cohort, or 'all' for the release's totals row."),
    "group": ("string", "Group", "The breakdown group; 'all' (these tables have no breakdown)."),
    "time": ("integer", "Days since arrest", "Whole days since the arrest: a knot of the published curve (day "
             "0 is everybody before any outcome)."),
    "at_risk": ("integer", "Still followed", "People still followed (no outcome, not censored) after the day."),
    "survival": ("number", "Share not yet removed (Kaplan-Meier)", "Kaplan-Meier probability of not yet being "
                 "removed by the day; release and transfer censored."),
    "ci_lower": ("number", "Lower 95% bound", "Lower bound of the 95% confidence interval (log-log)."),
    "ci_upper": ("number", "Upper 95% bound", "Upper bound of the 95% confidence interval (log-log)."),
    "overall_survival": ("number", "Share still open", "Share with no outcome yet by the day (the cumulative "
                         "incidences plus this sum to 1). Empty when suppressed."),
    "synthetic": ("boolean", "Synthetic (generated) release", "True for rows of a generated SYNTHETIC release, "
                  "never published by ICE."),
    "suppressed": ("string", "Cells suppressed in this row", "The columns of this row left empty by small-cell "
                   "suppression (space-separated; empty when none): counts below the threshold, the counts "
                   "suppressed to protect them, and the shares or curves that would reveal them."),
}


@dataclass
class OutcomeTable:
    """One published outcome table to write: its rows as a frame (Python values, None where empty), the Table
    Schema type of each column, and what its descriptor says."""

    name: str
    frame: pd.DataFrame
    types: dict[str, str]
    title: str
    description: str
    definitions: str | None
    releases: list[dict[str, Any]]
    edition_ids: set[str]
    synthetic: bool
    audit: list[str] | None = None
    command: str = ""  # the `icetrack outcomes` command that prints the same rows
    kind: str = "outcomes"
    dims: dict[str, str] = field(default_factory=dict)


def wanted(wh, measures: tuple[str, ...], include: bool) -> bool:
    """Whether to write the outcome tables: by default when person-level releases are loaded; when MEASUREs
    are named, only if one is :data:`OUTCOMES` (then an error without person-level data)."""
    named = OUTCOMES in measures
    if named and not figure.has_person_data(wh):
        raise NotFound(f"cannot export '{OUTCOMES}': {figure.NO_PERSON_DATA}")
    return include and (named or not measures) and figure.has_person_data(wh)


def tables(wh) -> list[OutcomeTable]:
    """The published outcome tables of every loaded person-level release, at :data:`THRESHOLD`."""
    pt = duckdb_tables(wh)  # built once, shared by the three figures
    flows = figure.flows(wh, "month", THRESHOLD, person_tables=pt)
    funnel = figure.funnel(wh, "month", None, THRESHOLD, person_tables=pt)
    survival = figure.survival(wh, "arrest", None, THRESHOLD, person_tables=pt)
    releases = [{**r, "editions": wh.release_edition_ids(r["release_id"])} for r in funnel.provenance["releases"]]
    synthetic = {r["release_id"]: bool(r["synthetic"]) for r in releases}
    base = {"releases": releases, "edition_ids": {e["edition_id"] for e in funnel.editions}}
    return [_flows(flows, synthetic, base), _funnel(funnel, synthetic, base),
            *(_curve(survival, curve, base) for curve in ("km", "cif"))]


def _flows(result, synthetic: dict[str, bool], base: dict) -> OutcomeTable:
    rows = [{**r, "synthetic": synthetic.get(r["release_id"], False),
             "suppressed": " ".join(k for k in FLOW_KINDS if r[k] is None)} for r in result.rows]
    columns = ["release_id", "period_start", *FLOW_KINDS]
    return _table("outcomes_flows_month", rows, columns, "Arrests, book-ins and removals per month",
                  "Counts of events per calendar month and release (no identifier needed); small counts are "
                  "suppressed consistently across days, weeks and months (days add up to both).",
                  definitions=None, audit=result.detail["audit"], base=base, command="flows --period month")


def _funnel(result, synthetic: dict[str, bool], base: dict) -> OutcomeTable:
    published = result.detail["result"]
    flags = [_funnel_flags(row) for rel in published["releases"] for row in rel["rows"]]
    if len(flags) != len(result.rows):  # funnel_rows walks the same releases and rows, in the same order
        raise AssertionError("funnel rows and their cells do not line up")
    rows = [{**r, "synthetic": synthetic.get(r["release_id"], False), "suppressed": f}
            for r, f in zip(result.rows, flags)]
    columns = ["release_id", "cutoff", "cohort", "group", *(f"{s}_count" for s in (*STATES, SIZE)),
               *(f"{s}_share" for s in STATES)]
    return _table("outcomes_funnel_month", rows, columns, "What happened to the people arrested, by month of "
                  "arrest (state at the release cut-off)",
                  "The state of each monthly arrest cohort (one arrest per episode, with an identifier) at the "
                  "release cut-off, with its share of the cohort; 'detained' is still open, not an outcome.",
                  definitions=published["definitions"], audit=[a for rel in published["releases"]
                                                               for a in rel["audit"]], base=base,
                  command="funnel --period month")


def _funnel_flags(row: dict) -> str:
    """The count and share columns a published funnel row leaves empty because of suppression."""
    cells = {k: v for k, v in row.items() if isinstance(v, dict)}
    hidden = {k for k, v in cells.items() if v["status"] != "published"}
    counts = [f"{k}_count" for k in cells if k in hidden]
    shares = [f"{k}_share" for k in cells if k != SIZE and cells[k]["share"] is None and hidden & {k, SIZE}]
    return " ".join(counts + shares)


def _curve(result, curve: str, base: dict) -> OutcomeTable:
    published = result.detail["result"]
    rows = figure.survival_curve(result, curve).rows
    if curve == "km":
        flags = [""] * len(rows)  # a curve is shown whole or left out (its removal count suppressed)
        columns = ["group", "time", "at_risk", "survival", "ci_lower", "ci_upper"]
        title = "Time from arrest to removal (Kaplan-Meier, release and transfer censored, 95% bands)"
    else:
        flags = [_cif_flags(r) for g in published["groups"] if not g["suppressed"]
                 for r in g["cumulative_incidence"]]
        columns = ["group", "time", "at_risk", "overall_survival", *(f"{c}_{k}" for c in CAUSES for k in CIF_KEYS)]
        title = "Time from arrest to removal, release or transfer (Aalen-Johansen cumulative incidence)"
    if len(flags) != len(rows):  # survival_rows walks the same shown groups and knots, in the same order
        raise AssertionError("survival rows and their cells do not line up")
    rows = [{**r, "synthetic": bool(published["synthetic"]), "suppressed": f} for r, f in zip(rows, flags)]
    return _table(f"outcomes_survival_arrest_{curve}", rows, columns, title,
                  "The published curve, every release pooled, at its knots: between two knots, and after the "
                  "last, each outcome counts 0 or at least the threshold. A group whose size is suppressed is "
                  "left out, and so is the Kaplan-Meier curve when the removal count is suppressed.",
                  definitions=published["definitions"], audit=None, base=base, command=f"{curve} --origin arrest")


def _cif_flags(row: dict) -> str:
    hidden = (["overall_survival"] if row["overall_survival"] is None else [])
    return " ".join(hidden + [f"{c}_{k}" for c in CAUSES if row[c] is None for k in CIF_KEYS])


def _table(name: str, rows: list[dict], columns: list[str], title: str, description: str, *,
           definitions: str | None, audit: list[str] | None, base: dict, command: str) -> OutcomeTable:
    columns = [*columns, "synthetic", "suppressed"]
    extra = {k for r in rows for k in r} - set(columns)
    if extra:  # a column the figure publishes that the export does not describe: fail, never drop it silently
        raise AssertionError(f"{name}: undescribed columns {sorted(extra)}")
    types = {c: _field(c)[0] for c in columns}
    # object columns keep each value as published (an int stays an int, None stays None, never NaN or 0)
    frame = pd.DataFrame({c: pd.Series([_value(r.get(c), types[c]) for r in rows], dtype=object)
                          for c in columns})
    return OutcomeTable(name, frame, types, title, description, definitions, base["releases"],
                        set(base["edition_ids"]), any(r["synthetic"] for r in base["releases"]), audit,
                        command)


def _value(v, kind: str):
    if v is not None and kind == "date":
        return date.fromisoformat(str(v)[:10])
    return v


def _field(col: str) -> tuple[str, str, str]:
    if col in FIELDS:
        return FIELDS[col]
    stem, _, suffix = col.rpartition("_")
    if col == f"{SIZE}_count":
        return ("integer", "Arrests in the cohort", "Arrests in the cohort (and group). Empty when suppressed.")
    if suffix == "count":
        return ("integer", f"Arrests {stem.replace('_', ' ')} at the cut-off",
                f"Arrests of the cohort in state '{stem}' at the release cut-off. Empty when suppressed.")
    if suffix == "share":
        return ("number", f"Share {stem.replace('_', ' ')} at the cut-off",
                f"'{stem}' count / cohort size. Empty when either is suppressed.")
    cause, _, key = col.partition("_")
    what = {"cif": "Cumulative incidence", "ci_lower": "Lower 95% bound", "ci_upper": "Upper 95% bound"}[key]
    return ("number", f"{what} of {cause}", f"{what} of {cause} by the day (Aalen-Johansen, competing "
            "outcomes). Empty when the outcome's count is suppressed or too rare to draw.")


def fields(t: OutcomeTable, fmt: str) -> list[dict[str, Any]]:
    out = []
    for col in t.frame.columns:
        kind, title, description = _field(col)
        f = {"name": col, "type": kind, "title": title, "description": description}
        if fmt == "dta":
            f["description"] += {"integer": " A whole number stored as a Stata double; missing (.) when empty.",
                                 "number": " Missing (.) when empty.", "boolean": "", "date": " A Stata daily "
                                 "date (%td).", "string": " Stata has no missing text: empty is \"\"."}[kind]
            if kind == "boolean":
                f["type"], f["description"] = "integer", description.replace("True", "1") + " 0 otherwise."
        out.append(f)
    return out


def resource(t: OutcomeTable, path: str, fmt: str, editions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One published outcome table as a tabular data resource: its suppression (threshold, rule, audit), the
    releases it comes from with each file's sha256, and ``synthetic``."""
    synthetic = (" SYNTHETIC DATA: from a generated release, not from ICE." if t.synthetic else "")
    out = {
        "name": t.name, "path": path, "profile": "tabular-data-resource", "format": fmt,
        "mediatype": dp.MEDIATYPES[fmt], "title": t.title + (" - SYNTHETIC" if t.synthetic else ""),
        "description": (f"{t.description} Published from person-level records with small-cell suppression: "
                        f"cells under {THRESHOLD} (the threshold) are suppressed - left empty, never a number, "
                        "and named in the row's 'suppressed' column - and so are the cells that would let a "
                        "reader work one out from the other published tables. The rows "
                        f"`icetrack outcomes {t.command} --csv` prints.{synthetic}"),
        **(dp.CSV_DIALECT if fmt == "csv" else {}),
        "schema": {"fields": fields(t, fmt)},
        "suppression": {"threshold": THRESHOLD, "rule": "counts below the threshold suppressed (zeros too), "
                        "with complementary suppression across every table published about the same people",
                        "audit": t.audit},
        "definition": t.definitions,
        "releases": [{**r, "editions": [_release_file(editions, e) for e in r["editions"]]} for r in t.releases],
        "synthetic": t.synthetic,
        "rows": len(t.frame),
        "sources": [dp.source(editions[e]) for e in sorted(t.edition_ids) if e in editions],
    }
    return out


def _release_file(editions: dict[str, dict[str, Any]], edition_id: str) -> dict[str, Any]:
    e = editions.get(edition_id, {})
    return {"edition_id": edition_id, "file_name": e.get("file_name"), "sha256": e.get("sha256")}


def write(t: OutcomeTable, path: Path, fmt: str) -> None:
    """Parquet and Stata (CSV and Excel go through the export's own writers, which take the frame as is)."""
    if fmt == "parquet":
        schema = pa.schema([pa.field(c, ARROW_TYPES[t.types[c]]) for c in t.frame.columns])
        pq.write_table(pa.Table.from_pandas(t.frame, schema=schema, preserve_index=False), path)
    elif fmt == "dta":
        _write_dta(t, path)
    else:
        raise ValueError(fmt)


def _write_dta(t: OutcomeTable, path: Path) -> None:
    """Stata: numbers as doubles (missing '.' where suppressed), booleans as 0/1 (:func:`datapackage.write_stata`)."""
    frame = pd.DataFrame(index=t.frame.index)
    dates = []
    for c in t.frame.columns:
        kind, col = t.types[c], t.frame[c]
        if kind in ("integer", "number"):
            frame[c] = pd.to_numeric(col, errors="raise").astype("float64")
        elif kind == "boolean":
            frame[c] = col.astype(bool).astype("int8")
        elif kind == "date":
            frame[c] = pd.to_datetime(col)
            dates.append(c)
        else:
            frame[c] = col
    dp.write_stata(frame, path, dates, fields(t, "dta"), t.title)
