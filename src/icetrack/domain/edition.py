"""The contract between publisher-format readers (``sources/*``) and the warehouse.

A reader turns one raw file into a :class:`ParsedSource`: the edition's identity and provenance plus its
published figures as long-format observations. Readers never touch the warehouse; the warehouse never
parses files. A reader that meets bad input raises :class:`SourceError`, whose message is one line naming
the file, the sheet/table and what was wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

# Grain of an observation's reference period.
#   day, month, fiscal_year: the figure counts what happened in [period_start, period_end].
#   fytd: fiscal-year-to-date total, period_start = 1 Oct, period_end = the edition's as-of date.
#   snapshot: a stock measured at one instant (period_start = period_end = the as-of date).
#   fiscal_year_to_date_mean: an average over [period_start, period_end] (ADP/ALOS of a partial year).
GRAINS = ("day", "week", "month", "fiscal_year", "fytd", "snapshot", "period")

OBSERVATION_SCHEMA = pa.schema(
    [
        ("measure", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("grain", pa.string()),
        ("dims", pa.map_(pa.string(), pa.string())),
        ("dims_key", pa.string()),  # canonical text of dims: "k1=v1|k2=v2", keys sorted; "" for none
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("source_url", pa.string()),
        ("note", pa.string()),
    ]
)


class SourceError(ValueError):
    """Bad input. ``str(err)`` is a single line: ``FILE [SHEET/TABLE]: problem``."""

    def __init__(self, file: str | Path, problem: str, *, where: str | None = None, row: int | None = None):
        self.file = str(file)
        self.where = where
        self.row = row
        self.problem = " ".join(str(problem).split())
        loc = Path(self.file).name
        if where:
            loc += f" [{where}]"
        if row is not None:
            loc += f" row {row}"
        super().__init__(f"{loc}: {self.problem}")

    def __reduce__(self):
        # Rebuild from the original parts when sent between processes (parsing runs in a worker pool).
        return (_rebuild_source_error, (self.file, self.problem, self.where, self.row))


def _rebuild_source_error(file: str, problem: str, where: str | None, row: int | None) -> SourceError:
    return SourceError(file, problem, where=where, row=row)


@dataclass(frozen=True)
class EditionInfo:
    """Identity and provenance of one ingested file (an "edition" of a publication)."""

    source: str  # reader id, e.g. "ice_detention_workbook", "user_csv", "icetrack_reference"
    publisher: str
    file_name: str
    sha256: str
    size_bytes: int
    parser_version: str
    original_url: str | None = None
    published_on: date | None = None  # when the publisher released it
    as_of: date | None = None  # when the publisher's source system was queried
    title: str | None = None
    note: str | None = None
    synthetic: bool = False
    # 'full' when every table the reader knows was loaded from the file itself; 'national' for the bundled
    # national subset of a workbook (upgraded in place when the workbook itself is ingested).
    completeness: str = "full"
    # What was let in against the default refusals, one line each (``--allow-implausible`` values,
    # ``--drop-identifiers`` columns); empty for an edition that passed every check.
    overrides: tuple[str, ...] = ()
    # Public no later than this day (the first capture of these bytes by a web archive), when known: an upper
    # bound on the publication date for a file that does not state one.
    published_by: date | None = None
    # How a workbook edition was read: the sheets used and those skipped (another fiscal year's re-post), the
    # tables missing (not found or unreadable) and flagged (published twice: the first copy kept).
    sheets_used: tuple[str, ...] = ()
    sheets_skipped: tuple[str, ...] = ()
    missing_tables: tuple[str, ...] = ()
    flagged_tables: tuple[str, ...] = ()
    # The dates the workbook states for its tables (its Footnotes sheet and table titles), by topic:
    # {"book_ins": {"date": "2025-08-23", "kind": "through", "iids_run": "2025-08-25", "text": ...}, ...}; and
    # the IIDS "Data Source" date of its Facilities sheet. Empty for other sources.
    table_dates: tuple[tuple[str, Any], ...] = ()
    data_source_date: date | None = None
    # The layout of every table found, by table name: {"sheet", "title", "header", "decimals", "rows",
    # "prefilled"}, plus "(workbook)": {"file_name" (dates as <date>), "sheets"}. The format-drift report
    # compares consecutive editions' layouts.
    layout: tuple[tuple[str, Any], ...] = ()
    # What changed in that layout since the edition before it among those loaded when it was ingested
    # (domain.layout_drift.LayoutChange.as_dict rows); `icetrack editions --changes` recomputes across all.
    layout_changes: tuple[dict[str, str], ...] = ()

    @property
    def edition_id(self) -> str:
        # Identical bytes are the same edition whatever the file is called.
        return f"{self.source}:{self.sha256[:16]}"


@dataclass
class ParsedSource:
    edition: EditionInfo
    observations: pa.Table  # OBSERVATION_SCHEMA
    targets: list[dict[str, Any]] = field(default_factory=list)  # rows for the warehouse `targets` table
    # measures this edition introduces that the catalogue does not know: {measure, concept, definition}
    measure_definitions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # One row per facility row of a workbook's Facilities sheet, as printed (name, city, state, AOR, type,
    # gender, last inspection, facility code when printed): text attributes, which observations cannot hold.
    # Rows for the warehouse `facility_listings` table; empty for every other source.
    facility_listings: list[dict[str, Any]] = field(default_factory=list)


def file_digest(path: str | Path) -> tuple[str, int]:
    """sha256 hex digest and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def observations_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Build an OBSERVATION_SCHEMA table from dict rows (``dims`` as a plain dict)."""
    # Column by column (one comprehension per field); dimensions once per distinct content.
    derived = ("dims", "dims_key", "value")
    columns = {name: [r.get(name) for r in rows] for name in OBSERVATION_SCHEMA.names if name not in derived}
    # The same dimensions recur (a row's months, a table's rows across its columns): each distinct content is
    # sorted, keyed and converted to Arrow once, and every row points at it (a take on the distinct maps).
    index: dict[tuple, int] = {}
    distinct_items: list[list[tuple[str, str]]] = []
    distinct_keys: list[str] = []
    positions = []
    for r in rows:
        content = tuple(r["dims"].items()) if r.get("dims") else ()
        at = index.get(content)
        if at is None:
            at = index[content] = len(distinct_items)
            items = sorted(content)
            distinct_items.append(items)
            distinct_keys.append("|".join([k + "=" + v for k, v in items]))
        positions.append(at)
    take = pa.array(positions, pa.int32())
    columns["dims"] = pa.array(distinct_items, OBSERVATION_SCHEMA.field("dims").type).take(take)
    columns["dims_key"] = pa.array(distinct_keys, pa.string()).take(take)
    columns["value"] = [None if r.get("value") is None else float(r["value"]) for r in rows]
    return pa.table({name: columns[name] for name in OBSERVATION_SCHEMA.names}, schema=OBSERVATION_SCHEMA)
