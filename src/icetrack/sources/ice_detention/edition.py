"""The edition of an ICE detention-statistics workbook: as-of date, fiscal year, publication date, URL.

original_url is ICE's URL pattern (https://www.ice.gov/doclib/detention/<file name>) with the file name
stripped of a web-archive capture prefix (``YYYYMMDDhhmmss-``) and of a third party's ``_markedup``
suffix; published_on comes from the date in the file name (MMDDYYYY, MMDDYY or YYMMDD, whichever falls
near the fiscal year), None when there is none. The as-of date is the Facilities sheet's IIDS line.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from icetrack.domain.edition import EditionInfo, SourceError, file_digest
from icetrack.sources.ice_detention.labels import text_key
from icetrack.sources.ice_detention.tables import Table
from icetrack.sources.ice_detention.workbook import Grid, Workbook

# 2: tables dated by their footnotes, sheets chosen by fiscal year. 3: every table of every sheet (ATD, fear,
# FAMU, ICLOS, bonds, semiannual, vulnerable populations, segregation), layouts, facility listings. A bundled
# national subset built by an older version is refreshed from the current bundle (warehouse.reference).
PARSER_VERSION = "3"
SOURCE = "ice_detention_workbook"
PUBLISHER = "U.S. Immigration and Customs Enforcement, Enforcement and Removal Operations"
URL_BASE = "https://www.ice.gov/doclib/detention/"

_ARCHIVE_PREFIX = re.compile(r"^\d{14}-")
_THIRD_PARTY_SUFFIX = re.compile(r"_markedup(?=\.xls[xm]$)", re.IGNORECASE)
_NAME_DATE = re.compile(r"detentionstats[_-]?(\d{8}|\d{6})(?!\d)", re.IGNORECASE)
_NAME_FY = re.compile(r"^FY(\d{2})", re.IGNORECASE)
_TEXT_FY = re.compile(r"FY\s?(\d{4}|\d{2})(?!\d)", re.IGNORECASE)
_AS_OF = re.compile(r"\(IIDS\)\W*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)", re.IGNORECASE)


def find_as_of(path: Path, workbook: Workbook, grids: list[Grid]) -> date:
    """The 'Data Source: ICE Integrated Decision Support (IIDS), MM/DD/YYYY' line (Facilities sheet first)."""
    for grid in grids:
        found = _as_of_in(grid.all_text())
        if found:
            return found
    loaded = {g.sheet for g in grids}
    for sheet in workbook.sheet_names:
        if sheet in loaded or "segregation" in text_key(sheet):
            continue  # the segregation sheet is ~16k columns wide and never carries the as-of line
        found = _as_of_in(workbook.grid(sheet).all_text())
        if found:
            return found
    raise SourceError(path, "no as-of date: the 'Data Source: ICE Integrated Decision Support (IIDS), "
                            "MM/DD/YYYY' line was not found on any sheet", where="workbook")


def _as_of_in(texts) -> date | None:
    for text in texts:
        if "IIDS" not in text:
            continue
        match = _AS_OF.search(text)
        if match:
            month, day, year = (int(g) for g in match.groups())
            try:
                return date(year + 2000 if year < 100 else year, month, day)
            except ValueError:
                continue
    return None


def name_fiscal_year(path: Path) -> int | None:
    """The fiscal year in ICE's file name (``FY26_...``), None when it has none."""
    match = _NAME_FY.match(original_file_name(path.name))
    return 2000 + int(match.group(1)) if match else None


def fiscal_year_of(path: Path, book_ins: Table | None, sheet: str, warnings: list[str]) -> int:
    """The edition's fiscal year: the book-ins title's FYxx, else the Detention sheet name's, else the file
    name's. A file whose name and content disagree follows its content (its figures are that year's)."""
    name_fy = name_fiscal_year(path)
    for text in ([book_ins.title] if book_ins is not None else []) + [sheet]:
        match = _TEXT_FY.search(text)
        if match:
            fy = int(match.group(1))
            fy = fy + 2000 if fy < 100 else fy
            if name_fy and name_fy != fy:
                warnings.append(f"file name says FY{name_fy % 100:02d} but the workbook says FY{fy}; "
                                f"using FY{fy}")
            return fy
    if name_fy:
        return name_fy
    raise SourceError(path, "cannot tell the fiscal year (no FYxx in the book-ins title, sheet name or file name)",
                      where=sheet.strip())


def original_file_name(name: str) -> str:
    """ICE's file name: without a web-archive capture prefix or a third party's '_markedup' suffix."""
    return _THIRD_PARTY_SUFFIX.sub("", _ARCHIVE_PREFIX.sub("", name))


def published_on(name: str, fiscal_year: int) -> date | None:
    """Publication date from the file name (MMDDYYYY, MMDDYY, YYMMDD; optional '_' before it)."""
    match = _NAME_DATE.search(name)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 8:
        candidates = [(digits[4:], digits[:2], digits[2:4]), (digits[:4], digits[4:6], digits[6:])]
    else:
        candidates = [("20" + digits[4:], digits[:2], digits[2:4]), ("20" + digits[:2], digits[2:4], digits[4:])]
    # A workbook is published during its fiscal year or, for year-end and reissued files, after it.
    earliest, latest = date(fiscal_year - 1, 9, 1), date(fiscal_year + 2, 12, 31)
    for year, month, day in candidates:
        try:
            candidate = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if earliest <= candidate <= latest:
            return candidate
    return None


def edition_info(path: Path, fiscal_year: int, as_of: date) -> EditionInfo:
    sha256, size = file_digest(path)
    original_name = original_file_name(path.name)
    third_party = "third-party-modified" in path.parts
    return EditionInfo(
        source=SOURCE,
        publisher=PUBLISHER,
        file_name=path.name,
        sha256=sha256,
        size_bytes=size,
        parser_version=PARSER_VERSION,
        original_url=URL_BASE + original_name,
        published_on=published_on(original_name, fiscal_year),
        as_of=as_of,
        title=f"ICE detention statistics FY{fiscal_year % 100:02d}",
        note="third-party copy" if third_party else None,
    )
