"""Reader of the 'Vulnerable & Special Population' sheet: facility-initiated segregation placements of vulnerable
and special populations, one block per fiscal quarter ("Fiscal Year (FY) 2024 Quarter 3 Data", "FY 2022 Quarter 2
Data" in the FY2022 file), present since the FY2022 year-end workbook.

Each block: a header ``Placement Reason | Number of Placements | Average Number of Consecutive Days in
Segregation | Average Number of Cumulative Days in Segregation``, one row per placement reason and a ``Grand
Total`` row, then ICE's note "* Data represents 281 unique detainees. Some detainees have multiple placements
within FY22 Q2 (296 total placements)." The sheet keeps a rolling window of quarters (FY2022 Q1-Q3 in the
FY2022 file; FY2022 Q2 - FY2026 Q2 in April 2026, without FY2025 Q4), so a quarter is read from every edition
that prints it and each value stays tied to its edition.

The quarters are read as one table: the sheet's heading "Definition for Vulnerable and Special Populations" is
located like any title, and the quarter blocks below it are walked here. One spec per quarter would register a
title per quarter for years to come and record a layout change each time a quarter rolls off the sheet. A block
whose header or rows are not this layout refuses the table in one line (``--partial`` leaves it out).

Measures (grain ``period``: the quarter's first to last day; dims ``placement_reason``, ``Total`` for the Grand
Total): vulnerable_segregation_placements, vulnerable_segregation_consecutive_days,
vulnerable_segregation_cumulative_days; vulnerable_segregation_detainees (no dims) from the note.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from icetrack.domain import rules
from icetrack.sources.ice_detention.labels import norm_text, text_key
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.specs import TableSpec
from icetrack.sources.ice_detention.tables import Table
from icetrack.sources.ice_detention.workbook import cell_ref

UNIT_PLACEMENTS = "placements"
# (header key, measure, unit) of the figure columns, left to right after "Placement Reason".
FIGURES = (
    ("number of placements", "vulnerable_segregation_placements", UNIT_PLACEMENTS),
    ("average number of consecutive days in segregation", "vulnerable_segregation_consecutive_days", "days"),
    ("average number of cumulative days in segregation", "vulnerable_segregation_cumulative_days", "days"),
)
LABEL_HEADER = "placement reason"
DETAINEES = "vulnerable_segregation_detainees"

# Placement reasons as printed (FY2022 Q1 - FY2026 Q2): 'Medical Mental' (from FY2024 Q2) is the same fifth
# reason as 'Medical/Mental Health' (the five reasons and their order are unchanged).
REASON_BY_KEY = {
    "disciplinary": "Disciplinary",
    "facility security threat": "Facility Security Threat",
    "medical mental health": "Medical/Mental Health",
    "medical mental": "Medical/Mental Health",
    "pending investigation of disciplinary violation": "Pending Investigation of Disciplinary Violation",
    "protective custody": "Protective Custody",
    "grand total": rules.TOTAL,
    "total": rules.TOTAL,
}

# "fiscal year fy 2024 quarter 3 data", "fy 2022 quarter 2 data"
QUARTER_TITLE = re.compile(r"^(?:fiscal year )?(?:fy )?(\d{4}) quarter ([1-4]) data$")
# "data represents 281 unique detainees some detainees have multiple placements within fy22 q2 ..."
_DETAINEES_NOTE = re.compile(r"\bdata represents (\d+) unique detainees\b")
_NOTE_ROWS = 3  # ICE's note sits one or two rows below the Grand Total


def quarter_period(fiscal_year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a fiscal quarter (Q1 = October - December of the previous calendar year)."""
    month = (10, 1, 4, 7)[quarter - 1]
    year = fiscal_year - 1 if quarter == 1 else fiscal_year
    end_month = month + 2
    return date(year, month, 1), date(year, end_month, monthrange(year, end_month)[1])


def read_quarters(ctx: ParseContext, table: Table) -> str | None:
    """Every quarter block below the sheet's heading."""
    grid, col = table.grid, table.first_col
    titles = [(row, int(m.group(1)), int(m.group(2))) for row in range(table.title_row + 1, grid.n_rows)
              if (m := QUARTER_TITLE.match(grid.key(row, col)))]
    if not titles:
        return "no 'Fiscal Year (FY) yyyy Quarter n Data' block below the heading"
    seen: set[tuple[int, int]] = set()
    for index, (row, fiscal_year, quarter) in enumerate(titles):
        stop = titles[index + 1][0] if index + 1 < len(titles) else grid.n_rows
        where = f"{table.where} / {grid.text(row, col)}"
        if (fiscal_year, quarter) in seen:
            ctx.warnings.append(f"{where}: printed twice; the first block is kept")
            continue
        seen.add((fiscal_year, quarter))
        problem = _read_quarter(ctx, table, row, stop, fiscal_year, quarter)
        if problem:
            return f"block '{grid.text(row, col)}' (row {row + 1}): {problem}"
    return None


def _read_quarter(ctx: ParseContext, table: Table, title_row: int, stop: int, fiscal_year: int,
                  quarter: int) -> str | None:
    grid, col = table.grid, table.first_col
    if not 2000 <= fiscal_year <= ctx.fiscal_year:
        return f"FY{fiscal_year} is outside 2000 - FY{ctx.fiscal_year}"
    start, end = quarter_period(fiscal_year, quarter)
    if start > ctx.as_of:
        return f"the quarter starts after the edition's date {ctx.as_of.isoformat()}"
    note = f"partial quarter: data as of {ctx.as_of.isoformat()}" if rules.is_partial(end, ctx.as_of) else None
    header = next((r for r in range(title_row + 1, stop) if not grid.row_is_blank(r, col, col + 4)), None)
    if header is None:
        return "no header row"
    found = [grid.key(header, col + i) for i in range(4)]
    if found != [LABEL_HEADER] + [key for key, _, _ in FIGURES]:
        return f"header is '{' | '.join(grid.text(header, col + i) for i in range(4))[:120]}'"
    row = header + 1
    reasons: set[str] = set()
    while row < stop and not grid.row_is_blank(row, col, col + 4):
        label = norm_text(grid.text(row, col))
        if not label:
            return f"row {row + 1} has figures but no placement reason"
        reason = REASON_BY_KEY.get(text_key(label))
        if reason is None:
            ctx.warnings.append(f"{table.where}: unrecognised placement reason '{label}' kept as printed")
            reason = label
        if reason in reasons:
            return f"placement reason '{reason}' printed twice"
        reasons.add(reason)
        for offset, (_, measure, unit) in enumerate(FIGURES, start=1):
            value = cell_value(ctx, grid, table.where, row, col + offset, measure, unit)
            if value is not None:
                ctx.add(measure, "period", start, end, {"placement_reason": reason}, value, unit, note)
        row += 1
    if rules.TOTAL not in reasons:
        return "no Grand Total row"
    _read_note(ctx, table, row, stop, start, end, note)
    return None


def _read_note(ctx: ParseContext, table: Table, after: int, stop: int, start: date, end: date,
               note: str | None) -> None:
    """ICE's '* Data represents N unique detainees ...' line under a block, when there is one."""
    grid, col = table.grid, table.first_col
    for row in range(after, min(after + _NOTE_ROWS, stop)):
        match = _DETAINEES_NOTE.search(grid.key(row, col))
        if match:
            value = float(match.group(1))
            if value > 1e9:  # a run of digits no count can be
                ctx.implausible(table.where, f"cell {cell_ref(row, col)}: {match.group(1)} unique detainees")
                return
            ctx.add(DETAINEES, "period", start, end, {}, value, "persons", note)
            return


# The sheet's heading, printed once at the top of every edition's sheet (FY2022 - FY2026). Not registered as a
# known title (:func:`.specs.titles`): it only anchors this reader, and no other table ends at it.
HEADING = re.compile(r"^definition for vulnerable and special populations$")

TABLES: list[TableSpec] = [
    TableSpec("Vulnerable & Special Population: segregation placements by fiscal quarter", HEADING, read_quarters),
]
