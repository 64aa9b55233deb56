"""Raw ICE xlsx as the Deportation Data Project republishes them: several sheets per table, each with a
title block above its header.

The header is found by content in the first rows of each sheet (:mod:`.sheet_xml`); cells are then read with
fastexcel in one pass per sheet: text columns as text, date columns as dates, and identifier columns with
their cell types checked over every row, so an identifier stored as an Excel number is refused, never
turned into digits. A sheet without any tabular content (a footnotes tab) is skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import PersonRelease, ReaderReport
from icetrack.sources.canonical.crosswalk import Crosswalk, column_key
from icetrack.sources.canonical.plan import Plan, Sink
from icetrack.sources.canonical.release import person_edition, title_cutoff
from icetrack.sources.canonical.values import first_true
from icetrack.sources.ddp.files import (
    DDP_URL,
    PUBLISHER_RAW,
    SOURCE_RAW,
    chunks,
    default_release_id,
    guess_table,
    one_line,
    required_columns,
    table_from_text,
    unique_names,
)
from icetrack.sources.ddp.sheet_xml import (
    ZIP_ERRORS,
    SharedStrings,
    SheetPeek,
    check_sheet,
    find_header,
    first_numeric_row,
    open_xlsx,
    peek_sheet,
)


def read_xlsx(path: Path, table: str | None, release_id: str | None, chunk_rows: int, cutoff: date | None,
              crosswalk: Crosswalk) -> PersonRelease:
    report = ReaderReport()
    peeks = _peek_tables(path, crosswalk, report)
    titles = " ".join(t for p in peeks for t in p.titles)
    if table is None:
        table = table_from_text(path.name) or table_from_text(titles) or guess_table(
            path, [h for _, h in peeks[0].header], crosswalk)
    edition = person_edition(path, SOURCE_RAW, PUBLISHER_RAW,
                             title=(peeks[0].titles[-1] if peeks[0].titles else None),
                             note="; ".join(dict.fromkeys(peeks[0].titles[:-1])) or None, url=DDP_URL,
                             as_of=title_cutoff(titles))
    cutoff = cutoff or title_cutoff(titles)
    release_id = release_id or default_release_id(path)
    sink = Sink(table, report)
    plans = [Plan(path, table, [h for _, h in p.header], crosswalk, sink, required=required_columns(table),
                  where=p.name) for p in peeks]
    for peek, plan in zip(peeks, plans):
        _check_peeked_identifiers(path, peek, plan)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        # Every sheet is checked (actual size, extent) before calamine loads it. The checks run in order in one
        # thread, so the next sheet's check overlaps calamine's load of this one (which releases the GIL).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="icetrack-xlsx-check") as pool:
            checks = [pool.submit(check_sheet, path, p.member, p.name) for p in peeks]
            try:
                reader = _fastexcel_reader(path)
                for peek, plan, check in zip(peeks, plans, checks):
                    check.result()
                    for batch in _sheet_batches(reader, path, peek, plan, release_id, edition.edition_id,
                                                chunk_rows):
                        yield table, batch
            finally:
                for check in checks:
                    check.cancel()  # a check already running ends within its limits
        sink.finish()

    return PersonRelease(edition, release_id, cutoff, batches(), report)


def _peek_tables(path: Path, crosswalk: Crosswalk, report: ReaderReport) -> list[SheetPeek]:
    """The sheets with a header row (peeked); sheets without a table are skipped with a warning."""
    zf, sheets, sst_member = open_xlsx(path)
    try:
        sst = SharedStrings(zf, sst_member, path)
        peeks = []
        for name, member in sheets:
            try:
                peek = peek_sheet(zf, name, member)
            except ZIP_ERRORS as exc:
                raise SourceError(path, f"sheet unreadable, truncated or corrupt: {exc}", where=name) from None
            if find_header(path, peek, crosswalk, sst):
                peeks.append(peek)
            else:
                report.warnings.append(f"sheet '{name}' has no table (notes or empty) and was skipped")
    finally:
        zf.close()
    if not peeks:
        raise SourceError(path, "no sheet with a recognisable header row")
    return peeks


def _check_peeked_identifiers(path: Path, peek: SheetPeek, plan: Plan) -> None:
    """Identifier cells stored as Excel numbers among the first rows: refused before any batch is read
    (numbers further down are caught by the full read, which checks the cell types of every row)."""
    for c in plan.cols:
        if c.kind != "canonical" or c.target != "unique_identifier":
            continue
        col = peek.header[c.index][0]
        for r, cells in peek.rows:
            if r > peek.header_row and col in cells and cells[col][0] in ("n", "b", "d", "e") and cells[col][1]:
                raise SourceError(path, f"identifiers in column '{c.printed}' are stored as Excel numbers, not "
                                        "text: 19-digit identifiers are truncated to 15 significant digits and "
                                        "collide; re-export the column as text", where=peek.name, row=r)


def _fastexcel_reader(path: Path):
    import fastexcel

    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # noqa: BLE001 - fastexcel raises several unrelated exception types
        raise SourceError(path, f"not a readable xlsx workbook: {one_line(exc)}") from None


def _sheet_batches(reader, path: Path, peek: SheetPeek, plan: Plan, release_id: str, edition_id: str,
                   chunk_rows: int) -> Iterator[pa.RecordBatch]:
    arrays = _load_sheet(reader, path, peek, plan)
    n = len(arrays[0]) if arrays else 0
    first = peek.header_row + 1  # Excel row number of the first data row
    for start, stop in chunks(n, chunk_rows):
        rows = np.arange(first + start, first + stop, dtype=np.int64)
        batch = plan.convert([a.slice(start, stop - start) for a in arrays], rows, release_id=release_id,
                             edition_id=edition_id, file_name=path.name, sheet=peek.name, synthetic=False)
        if batch is not None:
            yield batch


class _SheetColumns:
    """How fastexcel reads each header column: identifiers and dates untyped (inferred over every cell,
    strictly), everything else as text."""

    def __init__(self, peek: SheetPeek, plan: Plan):
        self.names = unique_names([t for _, t in peek.header])
        self.wanted = set(self.names)
        self.by_index = {c.index: c for c in plan.cols}
        self.id_names = [self.names[c.index] for c in plan.cols
                         if c.kind == "canonical" and c.target == "unique_identifier"]
        self.dtypes: dict[str, str] = {}
        self.date_names: list[str] = []
        for i, (_col, text) in enumerate(peek.header):
            c = self.by_index.get(i)
            if self.names[i] in self.id_names:
                continue
            is_date = c is not None and c.kind != "withheld" and (
                (c.kind == "canonical" and pa.types.is_timestamp(plan.schema.field(c.target).type))
                or (c.kind == "extra" and "date" in column_key(text)))
            if is_date:
                self.date_names.append(self.names[i])
            else:
                self.dtypes[self.names[i]] = "string"
        self.unnamed: set[str] = set()

    def use(self, col) -> bool:
        """fastexcel's column filter: the header's columns; columns without a name are noted, not read."""
        if col.name in self.wanted:
            return True
        if col.name.startswith("__UNNAMED__"):
            self.unnamed.add(col.name)
        return False

    def id_column_in(self, message: str) -> str | None:
        return next((n for n in self.id_names if f"column {n}" in message), None)


def _load_sheet(reader, path: Path, peek: SheetPeek, plan: Plan) -> list[pa.Array]:
    """One fastexcel pass over the sheet (eager: straight to Arrow); arrays aligned with ``peek.header``.

    Text columns are read as text. Identifier and date columns are not given a type: fastexcel infers it
    from *every* cell, strictly, so an identifier column holding any Excel number is caught (refused), and
    a date column holding any text cell (a redaction, a typed date) is caught and read again as text - a
    second pass over the sheet, only for such files - instead of losing those cells."""
    cols = _SheetColumns(peek, plan)
    try:
        batch = _load_cells(reader, path, peek, cols)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - fastexcel raises several unrelated exception types
        raise SourceError(path, f"sheet unreadable: {one_line(exc)}", where=peek.name) from None
    _check_identifier_cells(path, peek, cols, batch)
    if cols.unnamed:
        plan.sink.report.warnings.append(
            f"sheet '{peek.name}': {len(cols.unnamed)} column(s) without a header name were not read")
    arrays = []
    for i, n in enumerate(cols.names):
        if n not in batch.schema.names:
            raise SourceError(path, f"column '{n}' of the header was not found by the cell reader",
                              where=peek.name)
        col = batch.column(n)
        c = cols.by_index.get(i)
        if n in cols.date_names and c is not None and c.kind == "extra" and pa.types.is_string(col.type):
            # date cells rendered as text by the fallback read: midnight shown as a date, as the typed read does
            col = pc.replace_substring_regex(col, r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1")
        arrays.append(col)
    return arrays


def _load_cells(reader, path: Path, peek: SheetPeek, cols: _SheetColumns) -> pa.RecordBatch:
    """The sheet's cells; an identifier column mixing numbers and text is refused, a date column with text
    cells is read again as text (then, failing that, with coercion)."""
    import fastexcel

    dtypes = dict(cols.dtypes)

    def load(types: dict[str, str], coercion: str = "strict") -> pa.RecordBatch:
        return reader.load_sheet(peek.name, header_row=peek.header_row - 1, use_columns=cols.use, dtypes=types,
                                 schema_sample_rows=None, dtype_coercion=coercion, eager=True)

    try:
        return load(dtypes)
    except fastexcel.UnsupportedColumnTypeCombinationError as exc:
        hit = cols.id_column_in(one_line(exc))
        if hit is not None:
            row = first_numeric_row(path, peek, peek.header[cols.names.index(hit)][0])
            raise SourceError(path, f"identifier column '{hit}' mixes numbers and text: identifiers stored as "
                                    "Excel numbers are truncated to 15 significant digits and collide; "
                                    "re-export the column as text", where=peek.name, row=row) from None
    # a date column with text cells: read the date columns as text (parsed, redactions counted)
    dtypes.update({n: "string" for n in cols.date_names})
    try:
        return load(dtypes)
    except fastexcel.UnsupportedColumnTypeCombinationError as exc2:
        if cols.id_column_in(one_line(exc2)) is not None:
            raise
        return load(dtypes, "coerce")


def _check_identifier_cells(path: Path, peek: SheetPeek, cols: _SheetColumns, batch: pa.RecordBatch) -> None:
    """Identifier columns must come back as text (or empty): any other type means Excel number cells."""
    for n in cols.id_names:
        if n in batch.schema.names:
            col = batch.column(n)
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_null(col.type)):
                first = first_true(col.is_valid()) if col.null_count < len(col) else 0
                raise SourceError(path, f"identifiers in column '{n}' are stored as Excel {col.type} cells, not "
                                        "text: 19-digit identifiers are truncated to 15 significant digits and "
                                        "collide; re-export the column as text", where=peek.name,
                                  row=peek.header_row + 1 + first)
