"""Reader of the 'Monthly Segregation' sheet ('FY26 Monthly Segregation' in FY2026): individuals who served one or
more days in segregation per calendar month, by facility, as recorded in ICE's Segregation Review Management
System (SRMS). Present since the FY2024 year-end workbook (April - September 2024).

One block per month, latest first: a month title ("September 2024", followed until January 2025 by ICE's
description of the count in the same cell; later editions print the description once, in A1), a header
``Facilities | Placement Count`` (missing above February 2025 in the editions of May - September 2025), one row
per facility and a ``Grand Total`` row. The sheet keeps a rolling window of months that crosses fiscal years
(April 2024 - August 2025 in the 09/11/2025 copy), so each month is stored under its own calendar month (grain
``month``) with the edition it came from. The blocks are walked here below the sheet's first cell (located like
any title): one spec per month would register a title per month for years to come.

Measure ``segregated_individuals`` (unit persons, dims ``facility`` as printed, ``Total`` for the Grand Total).
A Grand Total that differs from the sum of its facility rows is kept and warned about (it equals the sum in
every block of the 30 shared editions).

Since June 2025 the sheet declares 16,383 columns (``A1:XFC923``), which the general loader refuses
(:data:`.workbook.LIMITS`); :func:`load_grid` reads its first columns from the XML instead
(:mod:`.first_columns`: 36-38 ms for the 11 MB sheets, where fastexcel takes 150-450 ms once allowed through).
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date
from pathlib import Path

from icetrack.domain import rules
from icetrack.sources.ice_detention.first_columns import load_first_columns
from icetrack.sources.ice_detention.labels import norm_text, text_key
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.specs import TableSpec
from icetrack.sources.ice_detention.tables import Table
from icetrack.sources.ice_detention.workbook import Grid, Workbook

MEASURE = "segregated_individuals"
UNIT = "persons"
HEADER = ("facilities", "placement count")

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
# "september 2024", or "september 2024 this segregation review management system srms data represents ..."
MONTH_TITLE = re.compile(rf"^({'|'.join(_MONTHS)}) (\d{{4}})(?: this segregation review management system\b.*)?$")
_GRAND_TOTAL = "grand total"


def load_grid(path: Path, workbook: Workbook, sheet_name: str) -> Grid:
    """The sheet's first columns, read from its XML within bounds (:mod:`.first_columns`); ``workbook`` is not
    used: fastexcel would walk every one of the sheet's ~500,000 empty cells."""
    return load_first_columns(path, sheet_name)


def month_period(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def read_months(ctx: ParseContext, table: Table) -> str | None:
    """Every month block below the sheet's first cell."""
    grid, col = table.grid, table.first_col
    titles = [(row, int(m.group(2)), _MONTHS.index(m.group(1)) + 1) for row in range(table.title_row + 1, grid.n_rows)
              if (m := MONTH_TITLE.match(grid.key(row, col)))]
    if not titles:
        return "no month block ('September 2024', 'Facilities | Placement Count') below the sheet's first cell"
    seen: set[tuple[int, int]] = set()
    for index, (row, year, month) in enumerate(titles):
        stop = titles[index + 1][0] if index + 1 < len(titles) else grid.n_rows
        title = " ".join(grid.text(row, col).split()[:2])
        if (year, month) in seen:
            ctx.warnings.append(f"{table.where} / {title}: printed twice; the first block is kept")
            continue
        seen.add((year, month))
        problem = _read_month(ctx, table, row, stop, year, month)
        if problem:
            return f"block '{title}' (row {row + 1}): {problem}"
    return None


def _read_month(ctx: ParseContext, table: Table, title_row: int, stop: int, year: int, month: int) -> str | None:
    grid, col = table.grid, table.first_col
    start, end = month_period(year, month)
    if start < date(2000, 1, 1) or start > ctx.as_of:
        return f"the month is not between 2000 and the edition's date {ctx.as_of.isoformat()}"
    note = f"partial month: data as of {ctx.as_of.isoformat()}" if rules.is_partial(end, ctx.as_of) else None
    row = next((r for r in range(title_row + 1, stop) if not grid.row_is_blank(r, col, col + 2)), stop)
    if (grid.key(row, col), grid.key(row, col + 1)) == HEADER:
        row += 1
    elif grid.number(row, col + 1) is None:  # a header row that is not this layout
        return f"header is '{grid.text(row, col)} | {grid.text(row, col + 1)}', not 'Facilities | Placement Count'"
    facilities: dict[str, float] = {}
    total = None
    while row < stop and not grid.row_is_blank(row, col, col + 2):
        label = norm_text(grid.text(row, col))
        if not label:
            return f"row {row + 1} has a count but no facility"
        value = cell_value(ctx, grid, table.where, row, col + 1, MEASURE, UNIT)
        if text_key(label) == _GRAND_TOTAL:
            total = value
            break
        if label in facilities:
            return f"facility '{label}' printed twice"
        if value is not None:
            facilities[label] = value
        row += 1
    if total is None:
        return "no Grand Total row with a figure"
    for facility, value in facilities.items():
        ctx.add(MEASURE, "month", start, end, {"facility": facility}, value, UNIT, note)
    ctx.add(MEASURE, "month", start, end, {"facility": rules.TOTAL}, total, UNIT, note)
    if abs(sum(facilities.values()) - total) > 0.5:
        ctx.warnings.append(f"{table.where} / {start:%B %Y}: Grand Total {total:,.0f} is not the sum of its "
                            f"facility rows ({sum(facilities.values()):,.0f}); both kept as printed")
    return None


# The sheet's first cell: "U.S. Immigration and Customs Enforcement" (until January 2025; the month titles then
# carry ICE's description) or that line followed by the description. Every sheet of the workbook starts with the
# same line; this spec is only tried on the segregation sheet. Not registered as a known title (:func:`.specs.
# titles`): it only anchors this reader, at the top of a sheet, where no table's body can reach.
FIRST_CELL = re.compile(r"^u s immigration and customs enforcement"
                        r"(?: this segregation review management system srms data represents\b.*)?$")

TABLES: list[TableSpec] = [
    TableSpec("Monthly Segregation: individuals in segregation by facility and month", FIRST_CELL, read_months),
]
