"""Reader of the 'Monthly Bond Statistics' sheet (FY2022 on): "FY2026 Bonded Out Book Outs Count and ALOS - Prior
12 months plus Current Month" (FY2022 - January 2024: "Bonded Out Releases Count and ALOS"; the FY2024 year-end
edition: "Bonded Out Book Outs/Releases Count and ALOS").

One column per month, headed by the month's first day (a date cell): the prior twelve months plus the current
one, so two fiscal years (the FY2024 year-end and some FY2025 editions print fourteen or fifteen). Each column is
dated by its own header; a month starting after the table's date (the Footnotes' final book-out date, which the
sheet's own footnote section repeats) is not emitted, and the current month carries the "partial month" note.

==========================  =====================================================  ===========  =========
measure                     row (as printed)                                       unit         grain
==========================  =====================================================  ===========  =========
bond_stats_book_outs        Total ICE Final Book Outs (Total ICE Final Releases)   book-outs    month
bond_stats_bond_posted      ICE Final Book Outs (Releases) with Bond Posted        book-outs    month
bond_posted_share           Bond Posted Book Outs/Releases (%) - a fraction 0..1   share        month
average_bond_amount         Average Bond Amount ($)                                US dollars   month
bond_stats_alos             ALOS (Days)                                            days         month
==========================  =====================================================  ===========  =========

Every row carries the dim ``counted``: ``final releases`` or ``final book-outs``. ICE's footnote: "In FY2024
ICE began tracking Final Bookouts in lieu of Final Releases due to a change in methodology. Prior year data
reflects ICE Final Releases." A release (bonded out, recognizance, supervision, parole, prosecutorial
discretion) is one kind of final book-out; the two counts are not one series. A month is ``final releases``
when the row label names releases only (FY2022 - the January 2024 edition, whose FY2024 months are releases
too) or when it is before October 2023; otherwise ``final book-outs``.

What is not a reported figure and is not emitted:

* a month whose total is 0 or blank: several editions fill the prior fiscal year's months with 0 in every row
  (FY2025 editions of Nov - Dec 2024: October 2023 - September 2024; FY2026 editions: the FY2025 months), though
  ICE reported some 20,000 book-outs a month in those months;
* an average (bond amount, ALOS) of 0: the average over no one.

The FY2026 edition of 04/09/2026 prints the two count rows swapped in every month it fills (1,124 "Total ICE
Final Book Outs" against 37,537 "with Bond Posted" for October 2025; the 02/02/2026 edition has 37,539 and 1,131),
and its share row is their inverse (33.4). A bond-posted count above the total in every filled month is read
as that swap: the counts are emitted under the other row's name with a note saying so, the share row is not
emitted, and a warning names the table. A bond-posted count above the total in some months only is refused.
"""

from __future__ import annotations

import re
from datetime import date

from icetrack.sources.ice_detention.labels import (
    UNIT_DAYS,
    month_of,
    norm_text,
    text_key,
)
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import Table

# "FY2026 Bonded Out Book Outs Count and ALOS - ...", "Bonded Out Releases Count ...", "... Book Outs/Releases ..."
TITLE_BONDS = re.compile(r"\bbonded out (?:book outs |releases |book outs releases )count and alos\b")

BOOK_OUTS = "bond_stats_book_outs"
BOND_POSTED = "bond_stats_bond_posted"
SHARE = "bond_posted_share"
AMOUNT = "average_bond_amount"
ALOS = "bond_stats_alos"
UNIT_COUNT = "book-outs"
UNIT_DOLLARS = "US dollars"

FINAL_RELEASES = "final releases"
FINAL_BOOK_OUTS = "final book-outs"
# ICE's footnote: "In FY2024 ICE began tracking Final Bookouts in lieu of Final Releases".
BOOK_OUTS_FROM = date(2023, 10, 1)

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_YEAR = re.compile(r"^([a-z]+) (\d{4}|\d{2})$")


def month_of_header(header: str) -> date | None:
    """First day of the month a column header names: a date cell ('2025-10-01 00:00:00') or 'Oct 2025'."""
    match = _ISO_DATE.match(norm_text(header))
    if match:
        return date(int(match.group(1)), int(match.group(2)), 1)
    match = _MONTH_YEAR.match(text_key(header))
    if match and month_of(match.group(1)):
        year = int(match.group(2))
        return date(year + 2000 if year < 100 else year, month_of(match.group(1)), 1)
    return None


def _row_kind(key: str) -> str | None:
    if key.startswith("total ice final"):
        return BOOK_OUTS
    if "with bond posted" in key:
        return BOND_POSTED
    if key.startswith("bond posted"):
        return SHARE
    if key.startswith("average bond amount"):
        return AMOUNT
    if key.startswith("alos"):
        return ALOS
    return None


def _month_columns(table: Table) -> tuple[list[tuple[int, date]], str | None]:
    columns = []
    for col, header in table.columns:
        start = month_of_header(header)
        if start is None:
            return [], f"column header '{header}' is not a month"
        if columns and (start.year * 12 + start.month) - (columns[-1][1].year * 12 + columns[-1][1].month) != 1:
            return [], f"column '{header}' does not follow the month before it"
        columns.append((col, start))
    return columns, None


def read_bond_statistics(ctx: ParseContext, table: Table) -> str | None:
    columns, problem = _month_columns(table)
    if problem:
        return problem
    rows: dict[str, int] = {}
    for row in table.body:
        kind = _row_kind(table.grid.key(row, table.first_col))
        if kind is None:
            ctx.warn_unknown(table, "row", table.label(row))
        else:
            rows.setdefault(kind, row)
    if BOOK_OUTS not in rows or BOND_POSTED not in rows:
        return "no 'Total ICE Final ...' or '... with Bond Posted' row"
    label = text_key(table.label(rows[BOOK_OUTS]))
    releases_only = "releases" in label and "book outs" not in label
    totals = {col: table.grid.number(rows[BOOK_OUTS], col) for col, _ in columns}
    filled = [(col, start) for col, start in columns if totals[col]]
    if len(filled) < len(columns):
        ctx.warnings.append(f"{table.where}: {len(columns) - len(filled)} months with a total of 0 or blank (not "
                            "filled by ICE) not read")
    above = [start for col, start in filled if (table.grid.number(rows[BOND_POSTED], col) or 0) > totals[col]]
    swapped = bool(filled) and len(above) == len(filled)
    if above and not swapped:
        return (f"the bond-posted count exceeds the total in {len(above)} of {len(filled)} months "
                f"(first {above[0]:%Y-%m})")
    if swapped:
        ctx.warnings.append(f"{table.where}: the bond-posted count exceeds the total in every month: the two count "
                            "rows are read as swapped; the share row (their inverse) is not read")
        rows[BOOK_OUTS], rows[BOND_POSTED] = rows[BOND_POSTED], rows[BOOK_OUTS]
        rows.pop(SHARE, None)
    for col, start in filled:
        counted = FINAL_RELEASES if releases_only or start < BOOK_OUTS_FROM else FINAL_BOOK_OUTS
        for kind, row in rows.items():
            _emit(ctx, table, kind, row, col, start, counted, swapped and kind in (BOOK_OUTS, BOND_POSTED))
    return None


_UNITS = {BOOK_OUTS: UNIT_COUNT, BOND_POSTED: UNIT_COUNT, SHARE: "share", AMOUNT: UNIT_DOLLARS, ALOS: UNIT_DAYS}
_SWAPPED_NOTE = ("read from the row ICE labels '{}': the two count rows are swapped in this edition (the "
                 "bond-posted count exceeds the total in every month)")


def _emit(ctx: ParseContext, table: Table, kind: str, row: int, col: int, start: date, counted: str,
          swapped: bool) -> None:
    value = cell_value(ctx, table.grid, table.where, row, col, kind, _UNITS[kind])
    if value is None or (value == 0 and kind in (AMOUNT, ALOS)):
        return  # blank, or an average over no one
    note = _SWAPPED_NOTE.format(table.label(row)) if swapped else None
    ctx.add_month_starting(kind, start, {"counted": counted}, value, _UNITS[kind], note=note, where=table.where)


TABLES: list[TableSpec] = titles(
    TableSpec("Bonded Out Book Outs Count and ALOS - Prior 12 months plus Current Month", TITLE_BONDS,
              read_bond_statistics, topic="book_outs",
              header=re.compile(r"^(?:\d{4} \d{1,2} \d{1,2}\b|[a-z]+ \d{2,4} \|)")),
)
