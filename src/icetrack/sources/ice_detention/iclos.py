"""Reader of the ' ICLOS and Detainees' sheet (FY2022 on; absent from the FY2019 - FY2021 workbooks).

Two tables share one column layout: a year row ("2023" over its first column), a month row ("January" over
each pair of columns) and a "mid"/"end" row. ICE's footnote: "The mid for each month corresponds to the 15th
of the month and end corresponds to the last day of the month." Each column is one day; the sheet keeps every
half-month since July 2020 (FY2022 - FY2023 editions) or January 2023 (later ones), 27 to 39 months.

=============================  =======================================  =========  ============================
measure                        table                                    unit       dims
=============================  =======================================  =========  ============================
iclos                          Average In Custody Length of Stay        days       population
                               (ICLOS)
detainees_by_length_of_stay    Detainees                                persons    population, length_of_stay
=============================  =======================================  =========  ============================

Grain ``snapshot``, dated the day the column stands for (the 15th or the month's last day), not the edition's
as-of date. ICLOS is "a calculation of how long a detainee has been in custody at a particular point in time"
(date minus book-in date) averaged over the people held that day - not the length of completed stays (ALOS).
The "Detainees" table counts the people held that day by time in custody so far: ``0-180 Days``,
``181-365 Days``, ``366-730 Days``, ``More than 730 Days`` and ``Total``.

population (labels drift; ICE's footnote defines the four groups at the date of the snapshot):

* ``Adult Facility`` - "Adult Facility Individuals" / "Adult Facility Aliens": in an adult facility, without a
  post-determination positive fear claim;
* ``FSC Facility`` - "FSC Facility Individuals": in a family facility, without one (FY2024 - April 2025
  editions have no family rows);
* ``Single Adults with a Positive Fear Determination`` - "Single Adults with a Positive Fear Determination
  Still in Custody", FY2022's "Post-Determination for Adult Facility Individuals with Postive Fear Claim" (the
  same series: both print 287.27669 for mid-July 2020);
* ``Family Units with a Positive Fear Determination`` - likewise for family facilities;
* ``Total``.

Not emitted: days after the table's date (the Footnotes' ICLOS line; ICE pre-fills them with 0); every day
whose Total is 0 or blank (the FY2025 editions of November - December 2024 print 0 for October 2023 - September
2024 in every row, the FY2026 editions 0 for October 2024 - September 2025, while 37,000 - 60,000 people were
held); and an ICLOS of 0, the average over no one (a family group
when no family was held). Counts of 0 in a filled day are counts of no one and are emitted.

The "Detainees" title is too short to be found by the title scan (titles are cells of 12 characters or
more), so it is read as part of the ICLOS table: the first "Detainees" cell below it, in the same column.
"""

from __future__ import annotations

import re
from datetime import date

from icetrack.sources.ice_detention.labels import (
    UNIT_DAYS,
    UNIT_PERSONS,
    month_of,
    norm_text,
    text_key,
)
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.periods import add_day, month_end
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import Table
from icetrack.sources.ice_detention.workbook import Grid, cell_ref

TITLE_ICLOS = re.compile(r"^average in custody length of stay\b")

ICLOS = "iclos"
DETAINEES = "detainees_by_length_of_stay"
TOTAL = "Total"

_FACILITY = re.compile(r"^(adult|fsc|frc) facility (?:individuals|aliens|noncitizens|non citizens)$")
_FACILITY_NAMES = {"adult": "Adult Facility", "fsc": "FSC Facility", "frc": "FRC Facility"}
_POSITIVE_FEAR = re.compile(r"\bpos(?:i)?tive fear\b")
SINGLE_ADULTS = "Single Adults with a Positive Fear Determination"
FAMILY_UNITS = "Family Units with a Positive Fear Determination"
_BANDS = {"0 180 days": "0-180 Days", "181 365 days": "181-365 Days", "366 730 days": "366-730 Days",
          "more than 730 days": "More than 730 Days", "total": TOTAL}
_YEAR = re.compile(r"^(\d{4})(?:\.0)?$")


def population_of(label: str) -> str | None:
    """The population a row label names (None when it is not one the reader knows)."""
    key = text_key(label)
    if key == "total":
        return TOTAL
    facility = _FACILITY.match(key)
    if facility:
        return _FACILITY_NAMES[facility.group(1)]
    if _POSITIVE_FEAR.search(key):
        if key.startswith("single adults") or "adult facility" in key:
            return SINGLE_ADULTS
        if key.startswith("family units") or re.search(r"\b(?:fsc|frc) facility\b", key):
            return FAMILY_UNITS
    return None


def snapshot_days(grid: Grid, years_row: int, first_col: int, end_col: int) -> tuple[dict[int, date], str | None]:
    """{column: day} from the year row, the month row below it and the "mid"/"end" row below that.

    Months run on one by one; a year cell is printed over the first month of each year but not always
    (FY2026 editions print no "2026" over January 2026, the January 2024 edition none over its Detainees
    table's January 2024): after December the year goes on by one, and a year cell that is printed must agree."""
    days: dict[int, date] = {}
    year = month = None
    for col in range(first_col + 1, end_col):
        year_text, month_text = grid.text(years_row, col), grid.text(years_row + 1, col)
        printed_year = _YEAR.match(year_text) if year_text else None
        if year_text and printed_year is None:
            return {}, f"cell {cell_ref(years_row, col)} '{year_text[:20]}' is not a year"
        if month_text:
            new_month = month_of(month_text)
            if new_month is None:
                return {}, f"cell {cell_ref(years_row + 1, col)} '{month_text[:20]}' is not a month"
            if month is not None and new_month != month % 12 + 1:
                return {}, f"cell {cell_ref(years_row + 1, col)} '{month_text}' does not follow the month before it"
            year = year + 1 if (month == 12 and year is not None) else year
            month = new_month
        if printed_year:
            if year is not None and int(printed_year.group(1)) != year:
                return {}, f"cell {cell_ref(years_row, col)} '{year_text}' is not the year its months run into ({year})"
            year = int(printed_year.group(1))
        kind = grid.key(years_row + 2, col)
        if not kind:
            continue
        if kind not in ("mid", "end") or year is None or month is None:
            return {}, f"column {cell_ref(years_row + 2, col)} is not dated by a year, a month and 'mid'/'end'"
        day = date(year, month, 15) if kind == "mid" else month_end(date(year, month, 1))
        if days and day <= max(days.values()):
            return {}, f"column {cell_ref(years_row + 2, col)} ({day}) does not follow the one before it"
        days[col] = day
    return (days, None) if days else ({}, "no 'mid'/'end' columns")


def _filled_days(ctx: ParseContext, table: Table, days: dict[int, date], total_row: int) -> dict[int, date]:
    """The days ICE filled in: a Total of 0 or blank on a day up to the table's date is a day not filled."""
    filled = {col: day for col, day in days.items() if table.grid.number(total_row, col) or day > ctx.as_of}
    unfilled = sum(1 for col, day in days.items() if col not in filled)
    if unfilled:
        ctx.warnings.append(f"{table.where}: {unfilled} days with a Total of 0 or blank (not filled by ICE) not read")
    return filled


def read_iclos(ctx: ParseContext, table: Table) -> str | None:
    if table.header_row is None or len(table.body) < 3:
        return "no year, month and mid/end rows"
    days, problem = snapshot_days(table.grid, table.header_row, table.first_col, table.end_col)
    if problem:
        return problem
    populations = [(row, table.label(row)) for row in table.body if row > table.header_row + 2]
    total_row = next((row for row, label in populations if text_key(label) == "total"), None)
    if total_row is None:
        return "no 'Total' population row"
    filled = _filled_days(ctx, table, days, total_row)
    for row, label in populations:
        population = population_of(label)
        if population is None:
            ctx.warn_unknown(table, "population", label)
            population = norm_text(label)
        for col, day in filled.items():
            value = cell_value(ctx, table.grid, table.where, row, col, ICLOS, UNIT_DAYS)
            if value:  # blank: no figure; 0: the average over no one
                add_day(ctx, table.where, ICLOS, day, {"population": population}, value, UNIT_DAYS)
    return _read_detainees(ctx, table)


def _detainees_table(table: Table) -> Table | None:
    """The "Detainees" table below the ICLOS table (title, then its own year/month/mid-end header rows)."""
    grid, col = table.grid, table.first_col
    after = (table.body[-1] if table.body else table.title_row) + 1
    title_row = next((r for r in range(after, min(grid.n_rows, after + 10)) if grid.key(r, col) == "detainees"),
                     None)
    if title_row is None:
        return None
    header_row = next((r for r in range(title_row + 1, grid.n_rows)
                       if not grid.row_is_blank(r, col, table.end_col)), None)
    if header_row is None:
        return None
    body = []
    for row in range(header_row + 1, grid.n_rows):
        if grid.row_is_blank(row, col, table.end_col):
            break
        body.append(row)
    return Table(grid, grid.text(title_row, col), title_row, col, table.end_col, header_row, body)


def _read_detainees(ctx: ParseContext, iclos: Table) -> str | None:
    table = _detainees_table(iclos)
    if table is None:
        ctx.warnings.append(f"{iclos.where}: no 'Detainees' table below it; detainee counts not read")
        return None
    days, problem = snapshot_days(table.grid, table.header_row, table.first_col, table.end_col)
    if problem:
        return f"Detainees table: {problem}"
    rows, population = [], None  # (row, population, band)
    for row in table.body[2:]:
        label = table.label(row)
        if all(table.grid.number(row, col) is None for col in days):
            population = population_of(label)
            if population is None:
                ctx.warn_unknown(table, "population", label)
                population = norm_text(label)
            continue
        if population is None:
            return f"row {row + 1} '{label}' comes before any population row"
        band = _BANDS.get(text_key(label))
        if band is None:
            ctx.warn_unknown(table, "length-of-stay band", label)
            band = norm_text(label)
        rows.append((row, population, band))
    total_row = next((row for row, population, band in rows if population == band == TOTAL), None)
    if total_row is None:
        return "Detainees table: no 'Total' row of the 'Total' population"
    filled = _filled_days(ctx, table, days, total_row)
    for row, population, band in rows:
        for col, day in filled.items():
            value = cell_value(ctx, table.grid, table.where, row, col, DETAINEES, UNIT_PERSONS)
            if value is not None:
                add_day(ctx, table.where, DETAINEES, day, {"population": population, "length_of_stay": band}, value,
                        UNIT_PERSONS)
    return None


TABLES: list[TableSpec] = titles(
    TableSpec("Average In Custody Length of Stay (ICLOS) and Detainees", TITLE_ICLOS, read_iclos, topic="iclos",
              header=re.compile(r"^\d{4}(?: \| \d{4})*$")),
)
