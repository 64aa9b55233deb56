"""Readers of the national tables on the ``Detention ...`` sheet (one function per table layout).

A reader returns None, or a one-line problem when the table's layout is not recognised: the caller then
refuses the edition in one line naming the table, or with ``--partial`` drops what that table emitted and
reports it missing while the rest of the edition loads.
"""

from __future__ import annotations

import re

from icetrack.sources.ice_detention.labels import AGENCIES, UNIT_ADP, UNIT_DAYS, UNIT_PERSONS, agency_of, text_key
from icetrack.sources.ice_detention.observations import (
    ParseContext,
    cell_value,
    criminality_of,
    emit_series,
    release_reason_of,
)
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import (
    TITLE_ADP,
    TITLE_ADP_BY_FACILITY,
    TITLE_ALOS,
    TITLE_ALOS_BY_FACILITY,
    TITLE_BOOK_INS,
    TITLE_BOOK_INS_BY_FACILITY,
    TITLE_BOOK_OUTS,
    TITLE_BOOK_OUTS_BY_FACILITY,
    TITLE_CURRENTLY_DETAINED,
    TITLE_DISPOSITION,
    TITLE_REMOVALS,
    Table,
)


def read_currently_detained(ctx: ParseContext, table: Table) -> str | None:
    before = len(ctx.rows)
    agency_columns = [(c, agency_of(h)) for c, h in table.columns if not text_key(h).startswith("percent")]
    for _, agency in agency_columns:
        if agency not in AGENCIES:
            ctx.warn_unknown(table, "agency column", agency)
    for row in table.body:
        criminality = criminality_of(ctx, table, table.label(row))
        for col, agency in agency_columns:
            value = cell_value(ctx, table.grid, table.where, row, col, "currently_detained", UNIT_PERSONS)
            if value is not None:
                ctx.add_snapshot("currently_detained", {"criminality": criminality, "agency": agency}, value,
                                 UNIT_PERSONS)
    if not any(r["measure"] == "currently_detained" and r["dims"] == {"criminality": "Total", "agency": "Total"}
               for r in ctx.rows[before:]):
        return "no Total/Total cell in the currently-detained table"
    return None


def _read_disposition(ctx: ParseContext, table: Table) -> None:
    for row in table.body:
        disposition = table.label(row)
        for col, facility_type in table.columns:
            value = cell_value(ctx, table.grid, table.where, row, col, "currently_detained_by_disposition",
                               UNIT_PERSONS)
            if value is not None and disposition:
                ctx.add_snapshot("currently_detained_by_disposition",
                                 {"disposition": disposition, "facility_type": facility_type}, value, UNIT_PERSONS)


def read_book_ins(ctx: ParseContext, table: Table) -> None:
    for row in table.body:
        agency = agency_of(table.label(row))
        if agency not in AGENCIES:
            ctx.warn_unknown(table, "agency", agency)
        emit_series(ctx, table, row, "book_ins", "book-ins", {"agency": agency}, fy_total_column=False)


def _read_book_ins_by_facility_type(ctx: ParseContext, table: Table) -> None:
    # Rows are facility types, columns criminality; the figures are fiscal-year-to-date totals.
    columns = [(c, criminality_of(ctx, table, h)) for c, h in table.columns]
    for row in table.body:
        facility_type = table.label(row)
        for col, criminality in columns:
            value = cell_value(ctx, table.grid, table.where, row, col, "book_ins_by_facility_type", "book-ins")
            if value is not None and facility_type:
                ctx.add_fytd("book_ins_by_facility_type", {"facility_type": facility_type, "criminality": criminality},
                             value, "book-ins")


def _read_book_outs(ctx: ParseContext, table: Table) -> None:
    note = None
    if "releases" in text_key(table.title):
        note = "published as 'ICE Final Releases': release reasons only, removals not included"
    headers = table.columns
    criminality_col = next((c for c, h in headers if text_key(h) == "criminality"), None)
    if criminality_col is not None:
        _read_book_outs_by_month(ctx, table, criminality_col, note)
    else:
        _read_book_outs_fy_totals(ctx, table, headers, note)


def _read_book_outs_by_month(ctx: ParseContext, table: Table, criminality_col: int, note: str | None) -> None:
    # Two-level rows: "<reason> | Total | months" then "(blank) | <criminality> | months" per criminality.
    # The grand-total row has a reason of "Total" and a blank criminality cell.
    reason = None
    for row in table.body:
        label = table.label(row)
        if label:
            reason = release_reason_of(ctx, table, label)
        if reason is None:
            continue
        criminality_label = table.grid.text(row, criminality_col)
        criminality = criminality_of(ctx, table, criminality_label) if criminality_label else "Total"
        emit_series(ctx, table, row, "book_outs", "book-outs",
                     {"release_reason": reason, "criminality": criminality}, fy_total_column=False, note=note)


def _read_book_outs_fy_totals(ctx: ParseContext, table: Table, headers: list[tuple[int, str]],
                              note: str | None) -> None:
    # FY19/FY20 layout: one row per reason, one column per criminality, values for the fiscal year so far.
    columns = [(c, criminality_of(ctx, table, h)) for c, h in headers]
    for row in table.body:
        label = table.label(row)
        if not label:
            continue
        reason = release_reason_of(ctx, table, label)
        for col, criminality in columns:
            value = cell_value(ctx, table.grid, table.where, row, col, "book_outs", "book-outs")
            if value is not None:
                ctx.add_fytd("book_outs", {"release_reason": reason, "criminality": criminality}, value,
                             "book-outs", note=note)


def _read_book_outs_by_facility_type(ctx: ParseContext, table: Table) -> None:
    # One "Total" column (fiscal year to date) per facility type in every layout seen; months if ever added.
    for row in table.body:
        facility_type = table.label(row)
        if facility_type:
            emit_series(ctx, table, row, "book_outs_by_facility_type", "book-outs", {"facility_type": facility_type},
                         fy_total_column=True)


def read_removals(ctx: ParseContext, table: Table) -> str | None:
    # "ICE Removals: FY2025" | "Removals" .. "Total" header | "Total" row with one number to its right.
    # Sub-rows such as "Removals with a FAMU Identifier" are a different measure and not emitted.
    for row in table.body:
        if text_key(table.label(row)) == "total":
            for col in range(table.first_col + 1, table.end_col):
                value = cell_value(ctx, table.grid, table.where, row, col, "removals_fytd", "removals")
                if value is not None:
                    ctx.add_fytd("removals_fytd", {}, value, "removals")
                    return None
    return "no 'Total' value in the removals table"


_AGENCY_GROUP = re.compile(r"^(?:(ice|cbp) )?average$")


def _read_agency_criminality_averages(ctx: ParseContext, table: Table, measure: str, unit: str) -> None:
    # Group rows "CBP Average" / "ICE Average" / "Average" (all agencies) each followed by criminality rows.
    agency = None
    for row in table.body:
        label = table.label(row)
        group = _AGENCY_GROUP.match(text_key(label))
        if group:
            agency = group.group(1).upper() if group.group(1) else "Total"
            criminality = "Total"
        elif agency is None:
            ctx.warn_unknown(table, "row before any agency group", label)
            continue
        else:
            criminality = criminality_of(ctx, table, label)
        emit_series(ctx, table, row, measure, unit, {"agency": agency, "criminality": criminality},
                     fy_total_column=True)


def _read_facility_type_averages(ctx: ParseContext, table: Table, measure: str, unit: str) -> None:
    for row in table.body:
        facility_type = table.label(row)
        if facility_type:
            emit_series(ctx, table, row, measure, unit, {"facility_type": facility_type}, fy_total_column=True)


# Header layouts each reader knows (matched against specs.header_key). A month table must at least start at
# October; the agency and criminality tables must name their columns.
_MONTHS = re.compile(r"\boct \| nov \| dec\b")
_AGENCY_COLUMNS = re.compile(r"\bice\b.*\bcbp\b")
_CRIMINALITY_COLUMNS = re.compile(r"\bconvicted criminal")
_BOOK_OUTS = re.compile(r"^criminality \| oct\b|\bconvicted criminal")  # by month, or FY19/FY20 FY totals
_TOTAL = re.compile(r"\btotal\b|\bremovals\b")


# Every national table, in reading order. A table that is absent is reported and the rest of the edition
# loads; a table whose title is found but whose header or body is not a layout its reader knows refuses the
# edition unless the user asked for --partial (see specs).
DETENTION_TABLES: list[TableSpec] = titles(
    TableSpec("ICE Currently Detained by Criminality and Arresting Agency", TITLE_CURRENTLY_DETAINED,
              read_currently_detained, snapshot=True, topic="currently_detained", header=_AGENCY_COLUMNS),
    TableSpec("ICE Initial Book-Ins by Arresting Agency and Month", TITLE_BOOK_INS, read_book_ins, topic="book_ins",
              header=_MONTHS),
    TableSpec("ICE Removals: FYxx", TITLE_REMOVALS, read_removals, topic="removals", header=_TOTAL),
    TableSpec("ICE Currently Detained by Processing Disposition", TITLE_DISPOSITION, _read_disposition,
              snapshot=True, topic="national_docket", header=re.compile(r"\badult\b")),
    TableSpec("ICE Initial Book-Ins by Facility Type and Criminality", TITLE_BOOK_INS_BY_FACILITY,
              _read_book_ins_by_facility_type, topic="book_ins", header=_CRIMINALITY_COLUMNS),
    TableSpec("ICE Final Book Outs by Release Reason, Month and Criminality", TITLE_BOOK_OUTS, _read_book_outs,
              topic="book_outs", header=_BOOK_OUTS),
    TableSpec("ICE Final Book Outs by Facility Type", TITLE_BOOK_OUTS_BY_FACILITY,
              _read_book_outs_by_facility_type, topic="book_outs", header=re.compile(r"\btotal\b|\boct\b")),
    TableSpec("ICE Average Daily Population by Arresting Agency, Month and Criminality", TITLE_ADP,
              lambda ctx, table: _read_agency_criminality_averages(ctx, table, "adp", UNIT_ADP), topic="detention",
              header=_MONTHS),
    TableSpec("ICE Average Length of Stay by Arresting Agency, Month and Criminality", TITLE_ALOS,
              lambda ctx, table: _read_agency_criminality_averages(ctx, table, "alos", UNIT_DAYS), topic="detention",
              header=_MONTHS),
    TableSpec("ICE Average Daily Population by Facility Type and Month", TITLE_ADP_BY_FACILITY,
              lambda ctx, table: _read_facility_type_averages(ctx, table, "adp_by_facility_type", UNIT_ADP),
              topic="detention", header=_MONTHS),
    TableSpec("ICE Average Length of Stay by Facility Type and Month", TITLE_ALOS_BY_FACILITY,
              lambda ctx, table: _read_facility_type_averages(ctx, table, "alos_by_facility_type", UNIT_DAYS),
              topic="detention", header=_MONTHS),
)
