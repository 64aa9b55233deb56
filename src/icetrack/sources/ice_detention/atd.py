"""Readers of the ``ATD ...`` sheet (``ATD FY19``, ``ATD EOFY20``, ``ATD FY21 YTD``, ``ATD EOFY24``, ``ATD FY26
YTD``): ICE's alternatives-to-detention figures in its detention-statistics workbooks
(https://www.ice.gov/detain/detention-management; files at https://www.ice.gov/doclib/detention/<file name>).

Tables (each found by its title; column A, except the court-appearance tables in column E beside them):

=====================================================  =========  =============================================
table (title as printed)                               years      measures (dims)
=====================================================  =========  =============================================
ATD Active Population Counts and Daily Cost by         FY22 on    atd_active_population, atd_daily_cost
Technology                                                        (technology)
ATD Active Population by Status, Extended Case         FY19 on    atd_active_population,
Management Service, Count and ALIP, FYxx                          atd_average_length_in_program (status)
Active ATD Participants and Average Length in          FY19 on    the same two (aor, technology)
Program, FYxx, as of <date>, by AOR and Technology
FYxx thru <month> Court Appearance: Total Hearings*    FY23 on    atd_court_appearance (hearing_type Total,
FYxx thru <month> Court Appearance: Final Hearings*               Final; outcome), atd_court_appearance_share
=====================================================  =========  =============================================

Dates. The three population tables are snapshots of one day: the day of BI Inc.'s participants report that
the sheet cites under them ("Data from BI Inc. Participants Report, 5.31.2025"). The AOR table's title states
an "as of" date too (the Footnotes topic ``atd``, by which these specs are dated when no report line is
found), but ICE does not always update it: the 06/05/2025 edition's title says 5/17/2025 while its figures are
those of the 5/31/2025 report (the 05/23/2025 edition holds the 5/17 figures); so the report line wins and a
disagreement is warned about. FY19's title has no date at all; its report line says 9.30.2019.

The court-appearance tables cover the fiscal year through the month their title names, which ends before the
sheet's date ("FY26 thru March" in an edition as of 4/4/2026; "FY23 Year End"). They are emitted with that
period (grain ``period`` from 1 October to the month's last day, ``fiscal_year`` for a whole year) and a note
quoting the title, not as fiscal-year-to-date (whose period ends at the edition's date). When the edition's
two court tables name different months of one year, both are read through the later month, with a warning:
the 02/27/2025 edition titles its final hearings "thru December" beside total hearings "thru January", but
its final-hearing figures are those the 02/14/2025 edition titles "thru January" (the 01/16/2025 edition's
"thru December" figures differ), so the earlier title was left stale.

Rows that are totals in the sheet are emitted as ``Total`` and never summed. Lines under a table (report
dates, cost caveat, court footnotes) fall inside its body, as no blank row separates them: a row without
figures is such a note and is skipped. A row with figures but no label (four in the 02/02/2026 edition's AOR
table, one stray row below FY21's) is not read, with a warning naming its cells.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from icetrack.domain.plausible import EARLIEST_WORKBOOK_DATE, date_problem
from icetrack.sources.ice_detention.labels import UNIT_DAYS, UNIT_PERSONS, month_of, norm_text, text_key
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.specs import TableSpec, titles
from icetrack.sources.ice_detention.tables import Table, locate_tables
from icetrack.sources.ice_detention.workbook import cell_ref

TITLE_TECHNOLOGY = re.compile(r"^atd active population counts and daily cost by technology\b")
TITLE_STATUS = re.compile(r"^atd active population by status\b")
TITLE_AOR = re.compile(r"^active atd participants and average length in program\b")
TITLE_COURT_TOTAL = re.compile(r"\bcourt appearance total hearings\b")
TITLE_COURT_FINAL = re.compile(r"\bcourt appearance final hearings\b")

POPULATION = "atd_active_population"
DAILY_COST = "atd_daily_cost"
ALIP = "atd_average_length_in_program"
COURT = "atd_court_appearance"
COURT_SHARE = "atd_court_appearance_share"
UNIT_COST = "US dollars per day"
UNIT_HEARINGS = "hearings"
UNIT_SHARE = "share"

# Spelling variants -> one name. "TR" (telephonic reporting) is the AOR tables' name for VoiceID in FY20-FY22:
# their TR rows add up to the technology table's VoiceID row (FY22: 19,544 both).
TECHNOLOGY_BY_KEY = {
    "smartlink": "SmartLINK", "gps": "GPS", "ankle monitor": "Ankle Monitor", "wristworn": "Wristworn",
    "veriwatch": "VeriWatch", "voiceid": "VoiceID", "voice id": "VoiceID", "tr": "VoiceID",
    "dual tech": "Dual Tech", "dual technology": "Dual Tech", "no tech": "No Tech", "no technology": "No Tech",
    "total": "Total",
}
STATUS_BY_KEY = {"famu": "FAMU", "ecms famu": "ECMS-FAMU", "single adult": "Single Adult",
                 "ecms single adult": "ECMS-Single Adult", "total": "Total"}
OUTCOME_BY_KEY = {"attended": "Attended", "failed to attend": "Failed to Attend", "total": "Total"}
# ICE ERO's 25 areas of responsibility as the sheet names them; matched without spaces ('WashingtonDC').
AORS = ("Atlanta", "Baltimore", "Boston", "Buffalo", "Chicago", "Dallas", "Denver", "Detroit", "El Paso",
        "Harlingen", "Houston", "Los Angeles", "Miami", "New Orleans", "New York", "Newark", "Philadelphia",
        "Phoenix", "Salt Lake City", "San Antonio", "San Diego", "San Francisco", "Seattle", "St Paul",
        "Washington DC")
AOR_BY_KEY = {text_key(a).replace(" ", ""): a for a in AORS}

# "Data from BI Inc. Participants Report, 04.04.2026" (text key: "... report 04 04 2026").
_REPORT_LINE = re.compile(r"^data from bi inc participants report (\d{1,2}) (\d{1,2}) (\d{4})\b")
# "FY26 thru March Court Appearance ...", "FY23 Year End Court Appearance ..."
_COURT_THROUGH = re.compile(r"^fy ?(\d{4}|\d{2}) (?:thru|through) ([a-z]+) court appearance\b")
_COURT_YEAR_END = re.compile(r"^(?:eo)?fy ?(\d{4}|\d{2}) (?:year end|ye) court appearance\b")


# --- dates ------------------------------------------------------------------------------------------------

def report_date(ctx: ParseContext, table: Table) -> date:
    """The day a population table describes: its own BI participants-report line, else the sheet's first
    such line, else the spec's topic date (the AOR title's "as of"), else the edition's date."""
    grid = table.grid
    own = [r for r in table.body if _REPORT_LINE.search(grid.key(r, table.first_col))]
    found = (own[0], table.first_col) if own else grid.find(_REPORT_LINE)
    if found is None:
        return ctx.as_of
    month, day, year = (int(g) for g in _REPORT_LINE.search(grid.key(*found)).groups())
    where = f"{table.where}, cell {cell_ref(*found)}"
    try:
        stated = date(year, month, day)
    except ValueError:
        ctx.implausible(where, f"participants report date {month}.{day}.{year} is not a date")
        return ctx.as_of
    problem = date_problem(stated, "participants report date", earliest=EARLIEST_WORKBOOK_DATE)
    if problem:
        ctx.implausible(where, problem)
    return stated


def _snapshot(ctx: ParseContext, day: date, measure: str, dims: dict[str, str], value: float | None,
              unit: str) -> None:
    if value is not None:
        ctx.add(measure, "snapshot", day, day, dims, value, unit)


# --- helpers ----------------------------------------------------------------------------------------------

def _column(table: Table, pattern: str) -> int | None:
    """The first column whose header text key matches."""
    return next((c for c, h in table.columns if re.search(pattern, text_key(h))), None)


def _figures(ctx: ParseContext, table: Table, row: int, columns: list[tuple[int | None, str, str]]):
    """The row's figures, one per (column, measure, unit): None for a blank or absent column."""
    return [None if col is None else cell_value(ctx, table.grid, table.where, row, col, measure, unit)
            for col, measure, unit in columns]


def _vocabulary(ctx: ParseContext, table: Table, what: str, label: str, by_key: dict[str, str]) -> str:
    known = by_key.get(text_key(label))
    if known is None:
        ctx.warn_unknown(table, what, label)
        return norm_text(label)
    return known


def _warn_unlabelled(ctx: ParseContext, table: Table, rows: list[int]) -> None:
    if rows:
        cells = ", ".join(cell_ref(r, table.first_col + 1) for r in rows)
        ctx.warnings.append(f"{table.where}: {len(rows)} row(s) with figures but no label not read ({cells})")


# --- population tables ------------------------------------------------------------------------------------

_COUNT = (r"^count$", POPULATION, UNIT_PERSONS)
_ALIP = (r"^(?:alip|average length in program)$", ALIP, UNIT_DAYS)


def _columns(table: Table, *wanted: tuple[str, str, str]) -> list[tuple[int | None, str, str]]:
    """(column, measure, unit) of each wanted (header pattern, measure, unit)."""
    return [(_column(table, pattern), measure, unit) for pattern, measure, unit in wanted]


def read_technology(ctx: ParseContext, table: Table) -> str | None:
    """Active participants and daily technology cost by technology (FY22 on)."""
    columns = _columns(table, _COUNT, (r"\bcost\b", DAILY_COST, UNIT_COST))
    return _read_rows(ctx, table, columns, "technology", TECHNOLOGY_BY_KEY)


def read_status(ctx: ParseContext, table: Table) -> str | None:
    """Active participants and ALIP by family status and extended case management (every year)."""
    return _read_rows(ctx, table, _columns(table, _COUNT, _ALIP), "status", STATUS_BY_KEY)


def _read_rows(ctx: ParseContext, table: Table, columns: list[tuple[int | None, str, str]], dim: str,
               vocabulary: dict[str, str]) -> str | None:
    """One labelled row per value of ``dim``, one figure per column."""
    day = report_date(ctx, table)
    unlabelled, total = [], False
    for row in table.body:
        values = _figures(ctx, table, row, columns)
        if all(v is None for v in values):
            continue  # a note under the table (report date, cost caveat)
        label = table.label(row)
        if not label:
            unlabelled.append(row)
            continue
        dims = {dim: _vocabulary(ctx, table, dim, label, vocabulary)}
        total = total or dims[dim] == "Total"
        for (_, measure, unit), value in zip(columns, values):
            _snapshot(ctx, day, measure, dims, value, unit)
    _warn_unlabelled(ctx, table, unlabelled)
    return None if total else "no Total row"


def read_aor_technology(ctx: ParseContext, table: Table) -> str | None:
    """Active participants and ALIP by AOR and technology: a Total row, then each AOR's row followed by its
    technology rows."""
    day = report_date(ctx, table)
    titled = ctx.table_dates.get("atd")
    if titled is not None and titled != day:
        ctx.warnings.append(f"{table.where}: the title says as of {titled} but the sheet's BI participants "
                            f"report line says {day}; dated {day}")
    columns = _columns(table, _COUNT, _ALIP)
    aor, total, unlabelled = None, False, []
    for row in table.body:
        values = _figures(ctx, table, row, columns)
        if all(v is None for v in values):
            continue
        label = table.label(row)
        if not label:
            unlabelled.append(row)
            continue
        technology = TECHNOLOGY_BY_KEY.get(text_key(label))
        if technology == "Total":
            aor, total = None, True
            dims = {"aor": "Total", "technology": "Total"}
        elif technology is not None:
            if aor is None:
                return f"technology row '{label}' (row {row + 1}) is not under an AOR row"
            dims = {"aor": aor, "technology": technology}
        else:
            aor = AOR_BY_KEY.get(text_key(label).replace(" ", ""))
            if aor is None:
                ctx.warn_unknown(table, "AOR", label)
                aor = norm_text(label)
            dims = {"aor": aor, "technology": "Total"}
        for (_, measure, unit), value in zip(columns, values):
            _snapshot(ctx, day, measure, dims, value, unit)
    _warn_unlabelled(ctx, table, unlabelled)
    return None if total else "no Total row"


# --- court appearance -------------------------------------------------------------------------------------

def court_period(title: str) -> tuple[date, date, str] | None:
    """(start, end, grain) of the fiscal-year period a court-appearance title names, or None."""
    key = text_key(title)
    through = _COURT_THROUGH.search(key)
    year_end = _COURT_YEAR_END.search(key)
    if through:
        month = month_of(through.group(2))
        if month is None:
            return None
        digits = through.group(1)
    elif year_end:
        month, digits = 9, year_end.group(1)
    else:
        return None
    fiscal_year = int(digits) + (2000 if len(digits) == 2 else 0)
    end_year = fiscal_year - 1 if month >= 10 else fiscal_year
    end = date(end_year, month, monthrange(end_year, month)[1])
    return date(fiscal_year - 1, 10, 1), end, "fiscal_year" if month == 9 else "period"


def _edition_period(ctx: ParseContext, table: Table, own: tuple[date, date, str],
                    sibling: re.Pattern[str]) -> tuple[date, date, str]:
    """The table's period, or the other court-appearance table's when that one names a later month of the same
    fiscal year: ICE has left one title stale (the 02/27/2025 edition titles its final hearings 'thru
    December', but they are the figures the 02/14/2025 edition titles 'thru January', beside a total-hearings
    table 'thru January' in both)."""
    later = [p for p in (court_period(t.title) for t in locate_tables(table.grid, sibling))
             if p is not None and p[0] == own[0] and p[1] > own[1]]
    if not later:
        return own
    period = max(later, key=lambda p: p[1])
    ctx.warnings.append(f"{table.where}: titled through {own[1]:%B %Y} but the sheet's other court-appearance "
                        f"table through {period[1]:%B %Y}; read as through {period[1]:%B %Y} (a stale title)")
    return period


def read_court(ctx: ParseContext, table: Table, hearing_type: str, sibling: re.Pattern[str]) -> str | None:
    """Hearings attended / failed to attend (count and share), in the period the title names."""
    titled = court_period(table.title)
    if titled is None:
        return f"its title names no period ('FYnn thru <month>' or 'FYnn Year End'): '{table.title[:80]}'"
    start, end, grain = _edition_period(ctx, table, titled, sibling)
    if start > ctx.as_of:
        return f"its period starts {start}, after the sheet's date {ctx.as_of}"
    note = f"titled '{table.title.rstrip('*').strip()}'"
    if end != titled[1]:
        note += f" (read as through {end:%B %Y}, as the sheet's other court-appearance table)"
    note += "; only participants with court tracking assigned"
    if end > ctx.as_of:
        note += f"; partial month: data as of {ctx.as_of}"
    share_col = next((c for c, h in table.columns if h.strip() == "%"), None)
    columns = [(_column(table, r"^count$"), COURT, UNIT_HEARINGS), (share_col, COURT_SHARE, UNIT_SHARE)]
    total = False
    for row in table.body:
        count, share = _figures(ctx, table, row, columns)
        if count is None and share is None:
            continue  # "Court Data from BI Inc.", "*Only Participants with court tracking assigned"
        outcome = _vocabulary(ctx, table, "outcome", table.label(row), OUTCOME_BY_KEY)
        dims = {"hearing_type": hearing_type, "outcome": outcome}
        total = total or outcome == "Total"
        if count is not None:
            ctx.add(COURT, grain, start, end, dims, count, UNIT_HEARINGS, note)
        if share is not None and outcome != "Total":  # the Total row's 100% is no figure
            ctx.add(COURT_SHARE, grain, start, end, dims, share, UNIT_SHARE, note)
    return None if total else "no Total row"


# Header layouts each reader knows (matched against specs.header_key: the cells right of the label column).
_COUNT_COST = re.compile(r"^count \| daily (?:tech )?cost$")
_COUNT_ALIP = re.compile(r"^count \| (?:alip|average length in program)$")
_COUNT_SHARE = re.compile(r"^count \| $")  # "Count | %": the percent sign's text key is empty

TABLES: list[TableSpec] = titles(
    TableSpec("ATD Active Population Counts and Daily Cost by Technology", TITLE_TECHNOLOGY, read_technology,
              snapshot=True, topic="atd", header=_COUNT_COST),
    TableSpec("ATD Active Population by Status, Extended Case Management Service, Count and ALIP", TITLE_STATUS,
              read_status, snapshot=True, topic="atd", header=_COUNT_ALIP),
    TableSpec("Active ATD Participants and Average Length in Program by AOR and Technology", TITLE_AOR,
              read_aor_technology, snapshot=True, topic="atd", header=_COUNT_ALIP),
    TableSpec("Court Appearance: Total Hearings", TITLE_COURT_TOTAL,
              lambda ctx, table: read_court(ctx, table, "Total", TITLE_COURT_FINAL), topic="atd", header=_COUNT_SHARE),
    TableSpec("Court Appearance: Final Hearings", TITLE_COURT_FINAL,
              lambda ctx, table: read_court(ctx, table, "Final", TITLE_COURT_TOTAL), topic="atd", header=_COUNT_SHARE),
)
