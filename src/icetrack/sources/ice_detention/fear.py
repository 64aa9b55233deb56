"""Readers of the Detention sheet's credible-fear and family-unit tables (FY2020 on; each table is a
:class:`.specs.TableSpec` found by its title, whose first word drifts: "Aliens", "Noncitizens", "Individuals").

=====================================================  ==========================  ===================  =========
table (title as printed in FY2026)                     measure                     grain                dims
=====================================================  ==========================  ===================  =========
Average Time from USCIS Fear Decision Service Date to  fear_decision_to_release_   fytd (the edition's  facility_type
ICE Release (In Days)                                  days                        year; fiscal_year
                                                                                   for an earlier row)
Aliens with USCIS-Established Fear Decisions in an     detained_with_established_  snapshot             facility_type
ICE Detention Facility by Facility Type                fear
Aliens with Positive Credible Fear Determination       credible_fear_parole_       month (of the row's  (none)
Parole Requested: FY2024 - FY2026                      requested                   own fiscal year)
Aliens with Positive Credible Fear Determination       credible_fear_parole_       month (of the row's  decision
Parole Status: FY2024 - FY2026                         decisions                   own fiscal year)
Removals with a FAMU Identifier (a row of "ICE         removals_famu_fytd          fytd                 (none)
Removals: FY2026", FY2024 on)
=====================================================  ==========================  ===================  =========

Where each exists (shared editions): the release-time and fear-decision tables FY2020 - FY2026, the parole
tables FY2022 - FY2026, the FAMU row from the January 2024 edition on.

* facility_type is the column or row label as printed (``FRC`` in FY2020 - FY2021, ``FSC`` from FY2022,
  ``Adult``, ``Total``); FY2024 - early FY2025 editions have no family column.
* The release-time table has one row per fiscal year of release ("FY2026", "EOFY2023"): the edition's own
  year is fiscal-year-to-date. ICE prints an average of 0 for a group no one was released from (FSC in
  FY2023, where the fear-decision count is 0 too); an average over no one is not a figure and is not emitted.
* The parole tables span three fiscal years: each row's months are dated in the row's own fiscal year. Their
  "FY Overall" column is the sum of the months and is not emitted. A past fiscal year whose every cell is 0
  (FY2025 in the FY2026 editions, after the FY2025 editions reported 4,392 requests; FY2024 in the FY2025
  editions of November - December 2024) is a year ICE did not fill, not a year of zeros: it is skipped with a
  warning. decision is ``Granted`` or ``Denied`` (ICE: "Parole
  Granted"/"Parole Denied"); a decision may fall in a later month than its request.
* The release-time and fear-decision tables carry no date of their own in the Footnotes: they are dated by
  the edition's as-of date. The parole tables are dated by the Footnotes' Encounters line printed in their
  section ("Individuals with Credible Fear Parole"); the FAMU row by the removals date.
* The FAMU row is found by its own label (its figure is the first number right of it); a row not under an
  "ICE Removals" title is still read, with a warning. The national removals reader is unchanged.
"""

from __future__ import annotations

import re
from datetime import date

from icetrack.sources.ice_detention.labels import (
    UNIT_DAYS,
    UNIT_PERSONS,
    norm_text,
    text_key,
)
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.periods import fiscal_year_of_label, month_of_fiscal_year
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import TITLE_REMOVALS, Table
from icetrack.sources.ice_detention.workbook import cell_ref

TITLE_RELEASE_TIME = re.compile(r"^average time from uscis fear decision service date to ice release\b")
# "Aliens", "Noncitizens" or "Non-Citizens" (two words once punctuation is a space) "with USCIS-Established ..."
TITLE_ESTABLISHED_FEAR = re.compile(
    r"^(?:\w+ ){1,2}with uscis established fear decisions in an ice detention facility\b")
TITLE_PAROLE_REQUESTED = re.compile(r"^(?:\w+ ){1,2}with positive credible fear determination parole requested\b")
TITLE_PAROLE_STATUS = re.compile(r"^(?:\w+ ){1,2}with positive credible fear determination parole status\b")
# A row label of the removals table, used as its own title: a spec on the removals title would find the table in
# every edition and have nothing to read before FY2024.
TITLE_FAMU_REMOVALS = re.compile(r"^removals with a famu identifier$")

RELEASE_TIME = "fear_decision_to_release_days"
ESTABLISHED_FEAR = "detained_with_established_fear"
PAROLE_REQUESTED = "credible_fear_parole_requested"
PAROLE_DECISIONS = "credible_fear_parole_decisions"
FAMU_REMOVALS = "removals_famu_fytd"

_DECISIONS = {"parole granted": "Granted", "parole denied": "Denied", "granted": "Granted", "denied": "Denied"}


def _fiscal_year_period(ctx: ParseContext, fiscal_year: int) -> tuple[str, date, date]:
    """(grain, start, end) of a figure about ``fiscal_year``: the edition's own year is year-to-date."""
    if fiscal_year == ctx.fiscal_year:
        return "fytd", ctx.fy_start, ctx.fytd_end
    return "fiscal_year", date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)


def read_release_time(ctx: ParseContext, table: Table) -> str | None:
    # Rows: "ICE Release Fiscal Year" values ("FY2026"); columns: facility types (FSC/FRC, Adult, Total).
    for row in table.body:
        label = table.label(row)
        fiscal_year = fiscal_year_of_label(label)
        if fiscal_year is None:
            ctx.warn_unknown(table, "release fiscal year", label)
            continue
        if fiscal_year > ctx.fiscal_year:
            return f"row '{label}' is a fiscal year after the edition's (FY{ctx.fiscal_year})"
        grain, start, end = _fiscal_year_period(ctx, fiscal_year)
        for col, facility_type in table.columns:
            value = cell_value(ctx, table.grid, table.where, row, col, RELEASE_TIME, UNIT_DAYS)
            if value:  # blank: no figure; 0: ICE's fill for a group no one was released from
                ctx.add(RELEASE_TIME, grain, start, end, {"facility_type": norm_text(facility_type)}, value,
                        UNIT_DAYS)
    return None


def read_established_fear(ctx: ParseContext, table: Table) -> str | None:
    # "Detention Facility Type | Total Detained"; rows Total, FSC (FRC), Adult.
    counted = [c for c, h in table.columns if text_key(h) == "total detained"]
    for col, header in table.columns:
        if col not in counted:
            ctx.warnings.append(f"{table.where}: column '{header}' not read (only 'Total Detained' is known)")
    for row in table.body:
        facility_type = table.label(row)
        value = cell_value(ctx, table.grid, table.where, row, counted[0], ESTABLISHED_FEAR, UNIT_PERSONS)
        if value is not None and facility_type:
            ctx.add_snapshot(ESTABLISHED_FEAR, {"facility_type": facility_type}, value, UNIT_PERSONS)
    return None


def _read_parole(ctx: ParseContext, table: Table, measure: str, decision_col: int | None) -> str | None:
    """Rows of one fiscal year each (the label only on a year's first row when a decision column splits it),
    months October - September of that year; the "FY Overall" sum is not read."""
    months = [(col, month) for col, month, _ in table.period_columns if month is not None]
    if len(months) < 12:
        return f"expected the twelve months October - September, found {len(months)}"
    by_year: dict[int, list[tuple[int, dict[str, str]]]] = {}
    fiscal_year = None
    for row in table.body:
        label = table.label(row)
        if label:
            fiscal_year = fiscal_year_of_label(label)
            if fiscal_year is None:
                ctx.warn_unknown(table, "fiscal year", label)
        if fiscal_year is None:
            continue
        if fiscal_year > ctx.fiscal_year:
            return f"row '{label}' is a fiscal year after the edition's (FY{ctx.fiscal_year})"
        dims = {}
        if decision_col is not None:
            printed = table.grid.text(row, decision_col)
            dims["decision"] = _DECISIONS.get(text_key(printed), printed)
            if text_key(printed) not in _DECISIONS:
                ctx.warn_unknown(table, "parole decision", printed)
        by_year.setdefault(fiscal_year, []).append((row, dims))
    for fiscal_year, rows in by_year.items():
        cells = [(row, dims, col, month) for row, dims in rows for col, month in months]
        if fiscal_year < ctx.fiscal_year and all(table.grid.number(r, c) == 0 for r, _, c, _ in cells):
            ctx.warnings.append(f"{table.where}: every month of FY{fiscal_year} is 0, a year not filled in "
                                "rather than a year of zeros; not read")
            continue
        for row, dims, col, month in cells:
            value = cell_value(ctx, table.grid, table.where, row, col, measure, UNIT_PERSONS)
            if value is not None:
                ctx.add_month_starting(measure, month_of_fiscal_year(fiscal_year, month), dims, value,
                                       UNIT_PERSONS, where=table.where)
    return None


def read_parole_requested(ctx: ParseContext, table: Table) -> str | None:
    return _read_parole(ctx, table, PAROLE_REQUESTED, None)


def read_parole_status(ctx: ParseContext, table: Table) -> str | None:
    decision_col = next(c for c, h in table.columns if text_key(h) == "parole status")
    return _read_parole(ctx, table, PAROLE_DECISIONS, decision_col)


def read_famu_removals(ctx: ParseContext, table: Table) -> str | None:
    # The row sits under "ICE Removals: FY20xx" | "Removals .. Total" | "Total .. <n>"; its figure is the first
    # number right of the label on the same row.
    grid, row, col = table.grid, table.title_row, table.first_col
    if not any(TITLE_REMOVALS.search(grid.key(r, col)) for r in range(max(0, row - 4), row)):
        # The label alone says what the row counts: it is read, and the missing title said.
        ctx.warnings.append(f"{table.where}: the row at {cell_ref(row, col)} is not under an 'ICE Removals' title")
    for c in range(col + 1, min(grid.n_cols, col + 6)):
        if grid.raw_number(row, c) is not None or grid.text(row, c):
            value = cell_value(ctx, grid, table.where, row, c, FAMU_REMOVALS, "removals")
            if value is None:
                break
            ctx.add_fytd(FAMU_REMOVALS, {}, value, "removals")
            return None
    return f"no figure right of the label at {cell_ref(row, col)}"


# Not titles of their own before FY2020 (FY2019) and FY2022 (parole): absent tables are only reported missing.
TABLES: list[TableSpec] = titles(
    TableSpec("Average Time from USCIS Fear Decision Service Date to ICE Release (In Days)", TITLE_RELEASE_TIME,
              read_release_time, header=re.compile(r"\btotal$")),
    TableSpec("Aliens with USCIS-Established Fear Decisions in an ICE Detention Facility by Facility Type",
              TITLE_ESTABLISHED_FEAR, read_established_fear, snapshot=True,
              header=re.compile(r"(?:^| \| )total detained(?:$| \| )")),
    TableSpec("Aliens with Positive Credible Fear Determination Parole Requested", TITLE_PAROLE_REQUESTED,
              read_parole_requested, topic="encounters", header=re.compile(r"^oct \| nov \| dec \| jan\b")),
    TableSpec("Aliens with Positive Credible Fear Determination Parole Status", TITLE_PAROLE_STATUS,
              read_parole_status, topic="encounters", header=re.compile(r"^parole status \| oct \| nov \| dec\b")),
) + [
    # Not registered as a title: the national removals table keeps its rows as before.
    TableSpec("Removals with a FAMU Identifier", TITLE_FAMU_REMOVALS, read_famu_removals, topic="removals"),
]
