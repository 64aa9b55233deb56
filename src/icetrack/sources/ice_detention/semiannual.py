"""Readers of the 'Semiannual' sheet: arrests, book-ins and removals of U.S. Armed Forces noncitizens, U.S.
citizens and parents of U.S. citizens (one table per group and event, a row per fiscal year), and of nationals
of countries designated for Temporary Protected Status (one table per event, a row per country, a column per
fiscal year). Present since the FY2022 year-end workbook (FY2018 - FY2022 through 03/31/2022).

Each figure's period is its own fiscal year, not the edition's. ICE refreshes these tables twice a year (the
sheet's first cell: "These tables will not be updated until after March 31, 2026"), and the Footnotes sheet's
section "Semiannual Arrests, Bookins and Removals" says through when, e.g. "FY2025 ICE Arrests data are
updated through 04/22/2025" (editions of May - September 2025), "EOFY2024 ... through 09/30/2024" (October 2024
- March 2025), "FY2018 - 2022 ICE Arrests data are updated through 03/31/2022" (the FY2022 year-end file). So:

* every fiscal year before the table's latest is complete: grain ``fiscal_year``, 1 Oct - 30 Sep;
* the latest fiscal year ends on that refresh date: grain ``fytd`` (1 Oct - the date) while the date falls
  inside it, ``fiscal_year`` once the date reaches 30 Sep;
* the latest fiscal year is not read, with one warning for the sheet, when the Footnotes do not date it (the
  FY2026 editions: they call only FY2018-FY2024 "historical and static") or when ICE printed it as zeros in
  (nearly) every table, a column not filled in yet: FY2024 in the three December 2024 editions (all 57 figures
  0 although the Footnotes say EOFY2024 through 09/30/2024; filled in from 01/03/2025), FY2025 in the FY2026
  editions (59 of 60 figures 0, where the May 2025 editions had 9,000 Honduran arrests). Zero is a figure
  elsewhere (no removals of U.S. citizens in any year).

The dates come from the Footnotes' arrests, detention (book-ins) and removals lines of that section, which
:mod:`.footnotes` parses but never files under a topic (:func:`semiannual_dates`).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from weakref import WeakKeyDictionary

from icetrack.domain.plausible import EARLIEST_WORKBOOK_DATE, date_problem
from icetrack.sources.files import file_identity
from icetrack.sources.ice_detention.footnotes import TableDate, footnote_lines
from icetrack.sources.ice_detention.labels import norm_text, text_key
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import Table, locate_tables
from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, Grid, find_sheet

# Blank cells (a TPS country before its designation) are skipped, as everywhere; a printed 0 is stored.

ARMED_FORCES = "U.S. Armed Forces noncitizens"
CITIZENS = "U.S. citizens"
PARENTS = "Parents of U.S. citizens"

# event -> (measure of a group, measure of a TPS country, unit, footnote topic that dates it)
EVENTS = {
    "arrests": ("arrests_by_group", "arrests_by_tps_country", "arrests", "arrests"),
    "book_ins": ("book_ins_by_group", "book_ins_by_tps_country", "book-ins", "detention"),
    "removals": ("removals_by_group", "removals_by_tps_country", "removals", "removals"),
}
# The key a parsed edition may give the semiannual dates under in ParseContext.table_dates (see semiannual_dates).
DATE_KEY = "semiannual_{event}"

# "FY2018", "FY2022 ", "FY2022 (10/1/2021 - 3/31/2022)", "FY2022 YTD", as text keys.
_FISCAL_YEAR = re.compile(r"^fy ?(\d{4})\b")


def semiannual_dates(lines: list[TableDate]) -> dict[str, date]:
    """{event: the date the Semiannual section of the Footnotes says its data run through}: the first arrests,
    detention (book-ins) and removals line of that section, whatever fiscal year it names; an event without
    its own line takes the arrests line's date."""
    section = [line for line in lines if "semiannual" in text_key(line.section)]
    by_topic: dict[str, date] = {}
    for line in section:
        if line.topic is not None:
            by_topic.setdefault(line.topic, line.date)
    fallback = by_topic.get("arrests")
    found = {event: by_topic.get(topic, fallback) for event, (_, _, _, topic) in EVENTS.items()}
    return {event: day for event, day in found.items() if day is not None}


@lru_cache(maxsize=4)
def _footnote_dates(path: Path, identity: tuple) -> dict[str, date]:
    """The semiannual dates read from the workbook's Footnotes sheet (one extra open, ~5 ms), for an edition
    whose parse did not pass them in ParseContext.table_dates."""
    workbook = FastexcelWorkbook(path)
    sheet = find_sheet(workbook.sheet_names, "footnote")
    return semiannual_dates(footnote_lines(workbook, sheet)) if sheet else {}


def refreshed_through(ctx: ParseContext, event: str) -> date | None:
    """The last day the edition's semiannual table of ``event`` counts (None when the Footnotes state none)."""
    key = DATE_KEY.format(event=event)
    if key in ctx.table_dates:
        return ctx.table_dates[key]
    day = _footnote_dates(ctx.path, file_identity(ctx.path)).get(event)
    if day is not None:
        problem = date_problem(day, "semiannual tables' date", earliest=EARLIEST_WORKBOOK_DATE)
        if problem and f"Footnotes: {problem}" not in ctx.overrides:  # once, not for each of the 12 tables
            ctx.implausible("Footnotes", problem)
    return day


def fiscal_year_of(label: str) -> int | None:
    match = _FISCAL_YEAR.match(text_key(label))
    return int(match.group(1)) if match else None


def year_periods(ctx: ParseContext, table: Table, years: set[int], event: str) -> dict[int, tuple]:
    """{fiscal year: (grain, start, end, note)} for the years this table's figures are stored under; the
    latest year is left out (warned once for the sheet) when no refresh date covers it or ICE printed it as
    zeros throughout."""
    latest = max(years)
    through = refreshed_through(ctx, event)
    periods = {fy: ("fiscal_year", date(fy - 1, 10, 1), date(fy, 9, 30), None) for fy in years if fy < latest}
    unread = _unread_reason(table.grid, latest, through)
    if unread:
        warning = f"{table.grid.sheet.strip()}: FY{latest} figures not read: {unread}"
        if warning not in ctx.warnings:  # one line for the sheet's twelve tables
            ctx.warnings.append(warning)
    elif through >= date(latest, 9, 30):
        periods[latest] = ("fiscal_year", date(latest - 1, 10, 1), date(latest, 9, 30), None)
    else:
        note = f"FY{latest} through {through.isoformat()}, the date ICE's Footnotes give for this semiannual table"
        periods[latest] = ("fytd", date(latest - 1, 10, 1), through, note)
    return periods


def _unread_reason(grid: Grid, latest: int, through: date | None) -> str | None:
    """Why the latest fiscal year of the sheet's tables is not read (None when it is)."""
    if through is None:
        return "the Footnotes state no date for it (ICE refreshes these tables twice a year)"
    if through < date(latest - 1, 10, 1):
        return f"the Footnotes date these tables through {through.isoformat()}, before FY{latest} began"
    cells, nonzero = latest_year_cells(grid).get(latest, (0, 0))
    if cells and nonzero * 4 < cells:
        return (f"{cells - nonzero} of its {cells} figures on the sheet are 0, a column ICE has not filled in "
                f"(the Footnotes date the tables through {through.isoformat()})")
    return None


# Grid -> {fiscal year: (figures, non-zero figures)} of each table's latest year, computed once per sheet.
_LATEST: WeakKeyDictionary[Grid, dict[int, tuple[int, int]]] = WeakKeyDictionary()


def latest_year_cells(grid: Grid) -> dict[int, tuple[int, int]]:
    """How many of the figures printed for each table's latest fiscal year are not zero, over the sheet's
    tables: ICE prints a year it has not filled in yet as zeros in every table (all 57 figures of FY2024 in the
    December 2024 editions; 59 of 60 for FY2025 in FY2026's), where a filled-in year has at most a few zeros
    (the U.S. citizens' removals)."""
    found = _LATEST.get(grid)
    if found is not None:
        return found
    counts: dict[int, list[int]] = {}
    for spec in TABLES:
        tables = locate_tables(grid, spec.pattern)
        if not tables:
            continue
        fy, values = _latest_figures(tables[0], tps=spec.pattern.pattern.startswith("^temporary"))
        if fy is not None:
            tally = counts.setdefault(fy, [0, 0])
            tally[0] += len(values)
            tally[1] += sum(1 for v in values if v != 0)
    found = _LATEST[grid] = {fy: (n, nonzero) for fy, (n, nonzero) in counts.items()}
    return found


def _latest_figures(table: Table, *, tps: bool) -> tuple[int | None, list[float]]:
    grid = table.grid
    if tps:
        columns = [(col, fiscal_year_of(header)) for col, header in table.columns]
        if not columns or any(fy is None for _, fy in columns):
            return None, []
        col, fy = max(columns, key=lambda c: c[1])
        return fy, [v for row in table.body if (v := grid.number(row, col)) is not None]
    rows = [(row, fiscal_year_of(table.label(row))) for row in table.body]
    if not rows or any(fy is None for _, fy in rows) or len(table.columns) != 1:
        return None, []
    row, fy = max(rows, key=lambda r: r[1])
    value = grid.number(row, table.columns[0][0])
    return fy, [] if value is None else [value]


def read_group(ctx: ParseContext, table: Table, group: str, event: str) -> str | None:
    """A 'Fiscal Year | Arrests' table: one row per fiscal year, one figure."""
    measure, _, unit, _ = EVENTS[event]
    if (problem := _label_header_problem(table, "fiscal year")) is not None:
        return problem
    if len(table.columns) != 1:
        return f"expected one figure column, found {len(table.columns)}"
    col = table.columns[0][0]
    rows = [(row, fiscal_year_of(table.label(row))) for row in table.body]
    problem = _years_problem(ctx, [table.label(r) for r, _ in rows], [fy for _, fy in rows])
    if problem:
        return problem
    periods = year_periods(ctx, table, {fy for _, fy in rows}, event)
    for row, fy in rows:
        if fy not in periods:
            continue
        grain, start, end, note = periods[fy]
        value = cell_value(ctx, table.grid, table.where, row, col, measure, unit)
        if value is not None:
            ctx.add(measure, grain, start, end, {"group": group}, value, unit, note)
    return None


def read_tps(ctx: ParseContext, table: Table, event: str) -> str | None:
    """A 'Citizenship Country | FY2018 | ... | FY2025' table: one row per country, one column per fiscal year."""
    _, measure, unit, _ = EVENTS[event]
    if (problem := _label_header_problem(table, "citizenship country")) is not None:
        return problem
    columns = [(col, fiscal_year_of(header)) for col, header in table.columns]
    problem = _years_problem(ctx, [h for _, h in table.columns], [fy for _, fy in columns])
    if problem:
        return problem
    periods = year_periods(ctx, table, {fy for _, fy in columns}, event)
    countries: set[str] = set()
    for row in table.body:
        country = norm_text(table.label(row))
        if not country:
            return f"row {row + 1} has figures but no country"
        if country in countries:
            return f"country '{country}' printed twice"
        countries.add(country)
        for col, fy in columns:
            if fy not in periods:
                continue
            grain, start, end, note = periods[fy]
            value = cell_value(ctx, table.grid, table.where, row, col, measure, unit)
            if value is not None:
                ctx.add(measure, grain, start, end, {"country": country}, value, unit, note)
    return None


def _label_header_problem(table: Table, expected: str) -> str | None:
    """The spec's header pattern sees the figure columns only; the label column's header is checked here."""
    found = table.grid.text(table.header_row, table.first_col) if table.header_row is not None else ""
    return None if text_key(found) == expected else f"label column headed '{found[:40]}', not '{expected}'"


def _years_problem(ctx: ParseContext, labels: list[str], years: list[int | None]) -> str | None:
    """Why these row or column labels are not a run of distinct fiscal years up to the edition's (or None)."""
    if not years:
        return "no fiscal-year rows or columns"
    for label, fy in zip(labels, years):
        if fy is None:
            return f"'{norm_text(label)[:40]}' is not a fiscal year"
        if not 2000 <= fy <= ctx.fiscal_year:
            return f"'{norm_text(label)[:40]}' names a fiscal year outside 2000 - FY{ctx.fiscal_year}"
    if len(set(years)) != len(years):
        return "a fiscal year is printed twice"
    return None


# (name as printed, title key, group) of the three group tables; (event, word as printed, title key, header
# key) of the three events. Title keys: "united states armed forces alien arrests fy2018 fy2025", "... noncitizen
# bookins fy2018 ytd2022", "united states citizen arrests ...", "united states citizens bookins ...",
# "parents of usc removals ...", "temporary protected status countries arrests ...".
_GROUPS = (
    ("United States Armed Forces Alien", r"united states armed forces (?:alien|noncitizen|non citizen)s?",
     ARMED_FORCES),
    ("United States Citizen", r"united states citizens?", CITIZENS),
    ("Parents of USC", r"parents of (?:usc|u s c|united states citizens?)", PARENTS),
)
_EVENT_TITLES = (
    ("arrests", "Arrests", r"arrests", r"arrests"),
    ("book_ins", "Bookins", r"(?:bookins|book ins)", r"book ?ins"),
    ("removals", "Removals", r"removals", r"removals"),
)


def _specs() -> list[TableSpec]:
    specs = []
    for printed, title, group in _GROUPS:
        for event, word, event_title, event_header in _EVENT_TITLES:
            specs.append(TableSpec(f"{printed} {word} FY2018 - FYxx", re.compile(rf"^{title} {event_title}\b"),
                                   partial(read_group, group=group, event=event),
                                   header=re.compile(rf"^{event_header}$")))
    for event, word, event_title, _ in _EVENT_TITLES:
        specs.append(TableSpec(f"Temporary Protected Status Countries {word} FY2018 - FYxx",
                               re.compile(rf"^temporary protected status countries {event_title}\b"),
                               partial(read_tps, event=event),
                               header=re.compile(r"^fy ?\d{4}\b")))
    return specs


TABLES: list[TableSpec] = titles(*_specs())
