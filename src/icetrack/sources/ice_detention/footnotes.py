"""The date of each table in an ICE detention-statistics workbook, as its "Footnotes" sheet states it.

One workbook mixes tables of different dates: in the 08/29/2025 edition removals run through 08/09/2025
while book-ins run through 08/23/2025, the currently-detained snapshot is of 08/24/2025 and the Facilities
sheet's "Data Source: ICE Integrated Decision Support (IIDS)" line says 08/18/2025. The Footnotes sheet
says so line by line, e.g.::

    FY2025 YTD ICE Removals data are updated through 08/09/2025 (IIDS Run Date 08/11/2025; EID as of 08/09/2025).
    Aliens Currently in ICE Detention Facilities data are a snapshot as 08/24/2025 (IIDS Run Date ...).

Column A of the sheet names the table section, column B holds the notes. A line's topic comes from its own
words ("Book-ins data", "Final Book Out data", "ICE Releases data", ...); the first line of a topic wins and
later lines with a different date are kept as conflicts, because ICE repeats the ADP/removals wording for the
semiannual and vulnerable-population tables further down with older dates. Lines labelled with another
fiscal year (EOFY2023 in an FY2024 file, "FY2018 - 2022") date other sheets and are returned apart.
FY2019-FY2020 files have no "Book-ins data" line (and FY2019 no "Currently in ICE Detention" line): those
topics then take the first current-year line of their column-A section ("FY2019 ICE Initial Book-Ins",
"ICE Currently Detained Population"), marked ``via="section"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from icetrack.sources.ice_detention.labels import norm_text, text_key
from icetrack.sources.ice_detention.workbook import Workbook, find_sheet

TOPICS = ("currently_detained", "book_ins", "book_outs", "removals", "detention",
          "national_docket", "iclos", "encounters", "atd")

_DATE = r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)"
_THROUGH = re.compile(r"\b(?:updated|filtered)\s+through\s+" + _DATE, re.IGNORECASE)
# "snapshot as of 01/14/2024", "snapshot as  01/14/2024" (the "of" is missing in most editions).
_SNAPSHOT = re.compile(r"\bsnapshot\s+as(?:\s+of)?\s+" + _DATE, re.IGNORECASE)
# "IIDS Run Date 08/25/2025", "IIDS v.1.34 run date 10/06/2019", "IIDS v 1.34 run as of 10/04/2020".
_RUN_DATE = re.compile(r"\brun\s+(?:date|as\s+of)\s+" + _DATE, re.IGNORECASE)
_EID = re.compile(r"\bEID\s+as\s+of\s+" + _DATE, re.IGNORECASE)
# "FY2025", "EOFY2023", "FY 2024", "FY25", and the semiannual range "FY2018 - 2022" / "FY2018-FY2023".
_LABEL = re.compile(r"\b(EO)?FY\s?(\d{4}|\d{2})(?!\d)(\s*-\s*(?:FY\s?)?(?:\d{4}|\d{2})(?!\d))?", re.IGNORECASE)
_TPS = re.compile(r"\bdesignated\s+TPS\b", re.IGNORECASE)
_ATD_TITLE = re.compile(r"active atd participants", re.IGNORECASE)
_ATD_AS_OF = re.compile(r"\bas\s+of\s+" + _DATE, re.IGNORECASE)

# Checked in this order on the words before the date: "Currently in ICE Detention Facilities data" must be
# tried before "ICE Detention data", and "Book-ins data" before the "Detention" it may also mention.
_TEXT_TOPICS = (
    ("currently_detained", re.compile(r"currently in ice detention")),
    ("national_docket", re.compile(r"national docket")),
    ("iclos", re.compile(r"\bicl(?:os|so)\b")),  # FY2021 spells it "ICLSO"
    ("encounters", re.compile(r"\bencounters data\b")),
    ("book_ins", re.compile(r"\bbook ?ins data\b")),
    ("book_outs", re.compile(r"\b(?:final book ?outs?|final releases|releases) data\b")),
    ("removals", re.compile(r"\bremovals data\b")),
    ("arrests", re.compile(r"\barrests data\b")),  # semiannual tables only: parsed, never a TOPICS entry
    ("detention", re.compile(r"\bdetention data\b")),
)
# Column-A section titles, used only for topics no line names (FY2019-FY2020).
_SECTION_TOPICS = (
    ("book_ins", re.compile(r"initial book ins")),
    ("currently_detained", re.compile(r"currently detained")),
    ("book_outs", re.compile(r"final (?:book outs|releases)")),
    ("removals", re.compile(r"\bremovals$")),
    ("detention", re.compile(r"average daily population")),
)


@dataclass(frozen=True)
class TableDate:
    """One stated table date: ``date`` is the last day covered (kind "through") or the day of a
    point-in-time count (kind "snapshot")."""

    topic: str | None
    date: date
    kind: str
    run_date: date | None
    eid_as_of: date | None
    label: str | None  # the fiscal-year label as written, normalised: "FY2025", "EOFY2023", "FY2018-2022"
    label_year: int | None  # the (last) fiscal year the label names
    text: str
    section: str = ""
    sheet: str = ""
    via: str = "text"  # "text" (the line's own words), "section" (its column-A title) or "title" (ATD)


@dataclass
class TableDates:
    fiscal_year: int
    topics: dict[str, TableDate] = field(default_factory=dict)
    conflicts: list[TableDate] = field(default_factory=list)  # later lines of a topic with another date
    other_years: list[TableDate] = field(default_factory=list)  # EOFY/FY lines of another fiscal year
    lines: list[TableDate] = field(default_factory=list)  # every dated line, in sheet order
    footnotes_sheet: str | None = None

    def date_of(self, topic: str) -> date | None:
        found = self.topics.get(topic)
        return found.date if found else None


def table_dates(workbook: Workbook, fiscal_year: int) -> TableDates:
    """Per-topic table dates from the Footnotes sheet, plus the ATD sheet title's "as of" date."""
    sheet = find_sheet(workbook.sheet_names, "footnote")
    lines = footnote_lines(workbook, sheet) if sheet else []
    result = dates_from_lines(lines, fiscal_year)
    result.footnotes_sheet = sheet
    atd = atd_as_of(workbook, fiscal_year)
    if atd is not None:
        result.topics["atd"] = atd
    return result


def footnote_lines(workbook: Workbook, sheet: str) -> list[TableDate]:
    """Every dated line of a footnotes sheet, row by row (Grid.all_text runs column by column, which would
    lose the order "first line wins" relies on), each with the column-A section it sits under."""
    grid = workbook.grid(sheet)
    section, found = "", []
    for row in range(grid.n_rows):
        for col in range(grid.n_cols):
            text = grid.text(row, col)
            if not text:
                continue
            parsed = parse_line(text, section=section, sheet=sheet)
            if parsed is not None:
                found.append(parsed)
            elif col == 0:
                section = text
    return found


def parse_line(text: str, section: str = "", sheet: str = "") -> TableDate | None:
    """A footnote line stating a table date, or None (TPS designations, received-on notes, definitions)."""
    text = norm_text(text)
    if _TPS.search(text):
        return None
    match = _THROUGH.search(text)
    kind = "through"
    if match is None:
        match, kind = _SNAPSHOT.search(text), "snapshot"
    if match is None:
        return None
    stated = _to_date(match)
    if stated is None:
        return None
    subject = text[:match.start()]
    label, label_year = _label(subject)
    return TableDate(topic=_topic(subject), date=stated, kind=kind, run_date=_date_of(_RUN_DATE, text),
                     eid_as_of=_date_of(_EID, text), label=label, label_year=label_year, text=text,
                     section=section, sheet=sheet)


def dates_from_lines(lines: list[TableDate], fiscal_year: int) -> TableDates:
    """Assign lines to topics: first current line of a topic wins; see the module docstring."""
    result = TableDates(fiscal_year=fiscal_year, lines=list(lines))
    current = []
    for line in lines:
        if line.label_year is not None and (line.label_year != fiscal_year or "-" in (line.label or "")):
            result.other_years.append(line)  # a range label ("FY2018-2022") dates the semiannual tables
        else:
            current.append(line)
    for line in current:
        if line.topic is None or line.topic not in TOPICS:
            continue
        _assign(result, line.topic, line)
    for topic, pattern in _SECTION_TOPICS:
        if topic in result.topics:
            continue
        for line in current:
            if pattern.search(text_key(line.section)):
                result.topics[topic] = replace(line, topic=topic, via="section")
                break
    return result


def _assign(result: TableDates, topic: str, line: TableDate) -> None:
    first = result.topics.get(topic)
    if first is None:
        result.topics[topic] = line
    elif (first.date, first.kind) != (line.date, line.kind):
        result.conflicts.append(line)


def atd_as_of(workbook: Workbook, fiscal_year: int) -> TableDate | None:
    """The "as of" date in the title of the current year's ATD sheet ("Active ATD Participants and Average
    Length in Program, FY25, as of 3/07/2025, ..."). A year-end file can carry the next or the previous
    year's ATD sheet as well, so the title's FY must be the workbook's."""
    for sheet in workbook.sheet_names:
        if not text_key(sheet).startswith("atd"):
            continue
        for text in workbook.grid(sheet).all_text():
            text = norm_text(text)
            if not _ATD_TITLE.search(text):
                continue
            match = _ATD_AS_OF.search(text)
            label, label_year = _label(text[:match.start()] if match else text)
            stated = _to_date(match) if match else None
            if stated is not None and label_year == fiscal_year:
                return TableDate(topic="atd", date=stated, kind="snapshot", run_date=None, eid_as_of=None,
                                 label=label, label_year=label_year, text=text, sheet=sheet, via="title")
    return None


def _topic(subject: str) -> str | None:
    key = text_key(subject)
    for topic, pattern in _TEXT_TOPICS:
        if pattern.search(key):
            return topic
    return None


def _label(subject: str) -> tuple[str | None, int | None]:
    match = _LABEL.search(subject)
    if match is None:
        return None, None
    year = _year(match.group(2))
    if match.group(3):
        last = _year(re.sub(r"\D", "", match.group(3)))
        return f"FY{year}-{last}", last
    return f"{'EO' if match.group(1) else ''}FY{year}", year


def _date_of(pattern: re.Pattern[str], text: str) -> date | None:
    match = pattern.search(text)
    return _to_date(match) if match else None


def _to_date(match: re.Match[str]) -> date | None:
    month, day, year = match.groups()[-3:]  # every date pattern ends with its (month, day, year) groups
    try:
        return date(_year(year), int(month), int(day))
    except ValueError:
        return None


def _year(digits: str) -> int:
    value = int(digits)
    return value + 2000 if value < 100 else value

