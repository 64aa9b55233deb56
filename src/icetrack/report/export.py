"""``icetrack export``: every aggregate measure as tidy long tables (Parquet, CSV, Excel or Stata), a compact
revisions table per measure and a Frictionless Data Package descriptor (``datapackage.json``).

One file per measure, ``DIR/<measure>.<ext>``: one row per figure - measure, each dimension in its own column,
period_start, period_end, grain, value, unit, edition_id, as_of, published_on, source_url, note, synthetic - in
the vintage asked for; and ``DIR/<measure>.revisions.<ext>``: per figure (dimensions, period) the number of
editions that published it and its first, latest, minimum and maximum value
(:func:`icetrack.figures.series.revision_summary`).

When the warehouse holds person-level releases, the published outcome tables are written too (flows and the
arrest-cohort funnel by month, time from arrest to removal: :mod:`icetrack.report.export_outcomes`), small
cells suppressed at the project's threshold - the tables ``icetrack outcomes`` publishes, never a person-level
record. ``--no-outcomes`` leaves them out; naming MEASUREs writes only those, plus the outcome tables if one of
the names is ``outcomes``.

Everything is written to a hidden folder beside ``DIR`` and renamed into place at the end, so a failure leaves
nothing half-written. Bad input (format, folder, measure, vintage) is refused before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from icetrack.figures import csv_cells
from icetrack.figures import series as figure
from icetrack.figures.result import NotFound, editions_by_id, frame_rows
from icetrack.report import datapackage as dp
from icetrack.report import export_outcomes as eo

FORMATS = ("parquet", "csv", "xlsx", "dta")
FIXED_COLUMNS = ["measure", "period_start", "period_end", "grain", "value", "unit", "edition_id", "as_of",
                 "published_on", "source_url", "note", "synthetic"]
REVISION_COLUMNS = ["measure", "period_start", "period_end", "grain", "unit", "n_editions", "first_value",
                    "first_edition_id", "latest_value", "latest_edition_id", "min_value", "max_value"]
DATE_COLUMNS = ("period_start", "period_end", "as_of", "published_on")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit less the header row
STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
# Words Stata (and pandas' Stata writer) do not accept as variable names.
STATA_RESERVED = frozenset("""aggregate array boolean break byte case catch class colvector complex const continue
default delegate delete do double else eltypedef end enum explicit export external float for friend function global
goto if inline int local long NULL pragma protected quad rowvector short typedef typename virtual _all _N _skip _b
_pi str# in _pred strL _coef _cons _se with _n""".split())


class ExportError(ValueError):
    """Bad export input (format, output folder): one line for the user."""


@dataclass
class Table:
    """One file to write: its frame, the dimension columns (column -> dimension name) and what it holds."""

    name: str
    frame: pd.DataFrame
    dims: dict[str, str]
    kind: str  # "figures" or "revisions"
    edition_ids: set[str] = field(default_factory=set)  # the editions its rows draw on


@dataclass
class Summary:
    out: Path
    format: str
    vintage: str
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)  # the published outcome tables among ``files``


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")


def check_out(out: Path, force: bool) -> None:
    """An output folder that does not exist or is empty; with ``force``, also a previous icetrack export (a
    folder holding only a datapackage.json icetrack wrote and the files it lists) - never any other folder."""
    if not out.exists():
        if out.is_symlink():
            raise ExportError(f"--out {out} is a broken symbolic link")
        return
    if not out.is_dir():
        raise ExportError(f"--out {out} exists and is not a folder")
    present = {p.name for p in out.iterdir()}
    if not present:
        return
    if not force:
        raise ExportError(f"--out {out} exists and is not empty (use --force to replace a previous export)")
    listed = _previous_export_files(out)
    if listed is None or not present <= listed:
        raise ExportError(f"--out {out} is not empty and is not an icetrack export; --force replaces only a "
                          "folder icetrack export wrote")


def _previous_export_files(out: Path) -> set[str] | None:
    try:
        package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
        if not isinstance(package, dict) or "icetrack" not in package:
            return None
        return {"datapackage.json", *(r["path"] for r in package.get("resources", []))}
    except (OSError, ValueError, TypeError, KeyError):
        return None


def check_vintage(wh, vintage: str) -> None:
    if vintage not in ("latest", "all") and vintage not in editions_by_id(wh):
        raise NotFound(f"unknown vintage '{vintage}' (latest, all or an edition id from `icetrack editions`)")


def catalogue_rows(wh, measures: tuple[str, ...] | list[str]) -> list[dict]:
    """The loaded measures (label, unit, definition, fiscal years) to export: ``measures``, else all."""
    rows = {r["measure"]: r for r in figure.measures(wh).rows}
    unknown = [m for m in measures if m not in rows]
    if unknown:
        raise NotFound(f"unknown measure '{unknown[0]}' (`icetrack measures` lists the {len(rows)} loaded)")
    return [rows[m] for m in dict.fromkeys(measures)] if measures else list(rows.values())


def dim_columns(dims_lists, taken: set[str]) -> dict[str, str]:
    """Column name -> dimension name, in order of first appearance. A dimension is its own column under its
    own name when that is a valid Stata name (letters, digits, underscore, at most 32) not taken by a fixed
    column; otherwise it becomes ``dim_<name>`` cleaned to one."""
    names: dict[str, None] = {}
    for dims in dims_lists:
        for k, _ in dims:
            names.setdefault(k, None)
    out: dict[str, str] = {}
    used = set(taken)
    for k in names:
        col = k
        if not STATA_NAME.fullmatch(col) or col in used or col in STATA_RESERVED:
            col = ("dim_" + re.sub(r"[^A-Za-z0-9_]", "_", k))[:32]
            n = 2
            while col in used:
                col, n = f"{col[:29]}_{n}", n + 1
        used.add(col)
        out[col] = k
    return out


def tidy(measure: str, rows: pd.DataFrame, dims: dict[str, str], columns: list[str]) -> pd.DataFrame:
    """``rows`` (a series frame with a ``dims`` column of (name, value) pairs) with each dimension as a column."""
    frame = rows.assign(measure=measure)
    maps = [dict(d) for d in frame["dims"]]
    for col, name in dims.items():
        frame[col] = [d.get(name) for d in maps]
    head, tail = columns[:1], columns[1:]
    return frame[[*head, *dims, *tail]].reset_index(drop=True)


class Reader:
    """Every measure's rows in the 'all', 'latest' and chosen vintages, read once (three queries, not three per
    measure), split by measure."""

    def __init__(self, wh, vintage: str):
        self.wh, self.vintage = wh, vintage
        self.editions = wh.editions()
        self.every = self._by_measure(wh.series(None, vintage="all"))
        self.latest = self._by_measure(wh.series(None, vintage="latest"))
        self.chosen = ({"all": self.every, "latest": self.latest}.get(vintage)
                       or self._by_measure(wh.series(None, vintage=vintage)))
        self.empty = wh.series("", vintage="latest")  # the columns, no rows

    @staticmethod
    def _by_measure(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {m: g.reset_index(drop=True) for m, g in frame.groupby("measure", sort=False)}

    def tables(self, measure: str) -> tuple[Table, Table]:
        """The figures of ``measure`` in the vintage and its revisions table (over every loaded edition, for the
        figures exported)."""
        every = self.every.get(measure, self.empty)
        latest = self.latest.get(measure, self.empty)
        chosen = self.chosen.get(measure, self.empty)
        dims = dim_columns(every["dims"], set(FIXED_COLUMNS) | set(REVISION_COLUMNS))
        figures = tidy(measure, chosen, dims, FIXED_COLUMNS)
        summary = figure.revision_summary(self.wh, measure, all_rows=every, latest_rows=latest,
                                          editions=self.editions)
        if self.vintage not in ("latest", "all"):
            keys = set(zip(chosen.dims_key, chosen.period_start, chosen.period_end))
            summary = summary[[k in keys for k in zip(summary.dims_key, summary.period_start, summary.period_end)]]
            every = every[[k in keys for k in zip(every.dims_key, every.period_start, every.period_end)]]
        revisions = tidy(measure, summary, dims, REVISION_COLUMNS)
        return (Table(measure, figures, dims, "figures", set(chosen.edition_id)),
                Table(f"{measure}.revisions", revisions, dims, "revisions", set(every.edition_id)))


def export(wh, out: Path, fmt: str = "parquet", *, vintage: str = "latest", measures: tuple[str, ...] = (),
           force: bool = False, outcomes: bool = True) -> Summary:
    """Write the export of ``measures`` (all loaded measures if none) to folder ``out``, with the published
    outcome tables when person-level releases are loaded (unless ``outcomes`` is false; when ``measures`` are
    named, only if one of them is ``outcomes``)."""
    from icetrack import __version__

    out = Path(out)
    check_format(fmt)
    check_out(out, force)
    check_vintage(wh, vintage)
    if eo.OUTCOMES in measures and not outcomes:
        raise ExportError(f"'{eo.OUTCOMES}' is named and --no-outcomes is given: drop one of them")
    with_outcomes = eo.wanted(wh, measures, outcomes)
    named = tuple(m for m in measures if m != eo.OUTCOMES)
    rows = catalogue_rows(wh, named) if named or not measures else []
    editions = {r["edition_id"]: r for r in frame_rows(wh.editions(), list(dp.SOURCE_FIELDS))}
    summary = Summary(out, fmt, vintage)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        resources = []
        reader = Reader(wh, vintage)
        for m in rows:
            figures, revisions = reader.tables(m["measure"])
            if figures.frame.empty and not measures:
                continue  # an edition without this measure: named measures are written even when empty
            for t in (figures, revisions):
                path = f"{t.name}.{fmt}"
                _write(t, m, tmp / path, fmt)
                summary.files.append(path)
                summary.rows[path] = len(t.frame)
                resources.append(dp.resource(t, m, path, fmt, editions))
        if with_outcomes:
            resources += _write_outcomes(wh, tmp, fmt, editions, summary)
        package = dp.package(resources, vintage=vintage, version=__version__,
                             outcomes=_outcomes_note(resources) if with_outcomes else None)
        (tmp / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        summary.files.append("datapackage.json")
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _write_outcomes(wh, tmp: Path, fmt: str, editions: dict, summary: Summary) -> list[dict]:
    """Write the published outcome tables; their resources."""
    resources = []
    for t in eo.tables(wh):
        path = f"{t.name}.{fmt}"
        _write(t, {}, tmp / path, fmt)
        summary.files.append(path)
        summary.outcomes.append(path)
        summary.rows[path] = len(t.frame)
        resources.append(eo.resource(t, path, fmt, editions))
    return resources


def _outcomes_note(resources: list[dict]) -> dict:
    published = [r for r in resources if "suppression" in r]
    return {"threshold": eo.THRESHOLD, "tables": [r["name"] for r in published],
            "synthetic": any(r["synthetic"] for r in published)}


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished folder to ``out``; an existing ``out`` (empty, or a previous export with --force) is
    moved aside first and removed only once the new one is in place."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write(t: Table | eo.OutcomeTable, measure: dict, path: Path, fmt: str) -> None:
    frame = t.frame
    if isinstance(t, eo.OutcomeTable) and fmt in ("parquet", "dta"):
        eo.write(t, path, fmt)  # typed by its own schema; CSV and Excel take the frame as is, below
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(frame, schema=_arrow_schema(frame, t), preserve_index=False), path)
    elif fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            csv_cells.write_csv(f, frame.to_dict("records"), list(frame.columns))
    elif fmt == "xlsx":
        _write_xlsx(frame, path)
    else:
        _write_dta(t, measure, path)


def _arrow_schema(frame: pd.DataFrame, t: Table) -> pa.Schema:
    types = {"value": pa.float64(), "synthetic": pa.bool_(), "n_editions": pa.int64(), "first_value": pa.float64(),
             "latest_value": pa.float64(), "min_value": pa.float64(), "max_value": pa.float64(),
             **{c: pa.date32() for c in DATE_COLUMNS}}
    return pa.schema([pa.field(c, types.get(c, pa.string())) for c in frame.columns])


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """One sheet, 'data', with a header row; dates as Excel dates (yyyy-mm-dd), text always as text (a cell
    starting with '=' is never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if len(frame) > XLSX_MAX_ROWS:
        raise ExportError(f"{path.name}: {len(frame):,} rows do not fit in an Excel sheet; export parquet or csv")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")

    def cell(v):
        if v is None or (isinstance(v, float) and v != v):
            return WriteOnlyCell(ws, value=None)
        if isinstance(v, str):
            c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
            c.data_type = "s"
            return c
        c = WriteOnlyCell(ws, value=v)
        if isinstance(v, date):
            c.number_format = "yyyy-mm-dd"
        return c

    ws.append([cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        ws.append([cell(v.item() if hasattr(v, "item") else v) for v in row])
    wb.save(path)


def _write_dta(t: Table, measure: dict, path: Path) -> None:
    """Stata: ``synthetic`` as 0/1, the measure's label as the data label (:func:`datapackage.write_stata`)."""
    frame = t.frame.copy()
    dates = [c for c in DATE_COLUMNS if c in frame]
    for c in dates:
        frame[c] = pd.to_datetime(frame[c])
    if "synthetic" in frame:
        frame["synthetic"] = frame["synthetic"].astype("int8")
    if "n_editions" in frame:
        frame["n_editions"] = frame["n_editions"].astype("int32")
    dp.write_stata(frame, path, dates, dp.fields(t, measure, "dta"), measure["label"])
