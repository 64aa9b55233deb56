"""Reader for ICE ERO "Detention Statistics" workbooks (``FYnn_detentionStats*.xlsx``).

ICE's Enforcement and Removal Operations publishes one workbook roughly every two weeks on its
"Detention Management" page. Each is cumulative for one fiscal year (FY = 1 Oct - 30 Sep) and ICE
revises earlier months until the year is locked, so every figure is tied to its edition (file name,
sha256, as-of date). Tables move between rows from edition to edition and their titles drift, so each
table is located by its title text and read until the first blank row; no cell address is fixed.

Only two sheets are loaded: ``Detention ...`` (the national tables) and ``Facilities ...`` (one row per
facility). The ``Monthly Segregation`` sheet, which reports 16,383 columns since June 2025, is never
touched.

Measures emitted (blank cells are skipped, never read as zero; months starting after the as-of date are
not emitted, because ICE fills future months with 0):

=================================  ====================  ===============================================
measure                            grain                 dims
=================================  ====================  ===============================================
currently_detained                 snapshot              criminality, agency
currently_detained_by_disposition  snapshot              disposition, facility_type
book_ins                           month                 agency
book_ins_by_facility_type          fytd                  facility_type, criminality
book_outs                          month (fytd in FY19   release_reason, criminality
                                   and FY20 layouts)
book_outs_by_facility_type         fytd                  facility_type
removals_fytd                      fytd                  (none)
adp, alos                          month; fytd for the   agency, criminality
                                   "FY Overall" column
adp_by_facility_type,              month; fytd for       facility_type
alos_by_facility_type              "FY Overall"
facility_adp                       fytd                  facility, aor, facility_type, state, breakdown,
                                                         category (+ gender, criminality for the
                                                         gender_criminality breakdown)
facility_alos                      fytd                  facility, aor, facility_type, state
=================================  ====================  ===============================================

Grain notes: ``snapshot`` rows have period_start = period_end = as-of date. ``fytd`` rows run from 1 Oct
of the fiscal year to the as-of date, capped at 30 Sep (year-end editions are pulled after the year
closed, e.g. FY24's as of 2024-10-07, but their figures still cover the fiscal year only). A month that
was still running at the as-of date carries the note "partial month". Row totals of monthly count tables
(the "Total" column of book-ins and book-outs) are not emitted: they are the sum of the months. The
"FY Overall" column of ADP/ALOS is emitted because an average over the year cannot be rebuilt from the
monthly averages.

Dimension vocabularies (labels are stripped and inner whitespace collapsed first):

* agency: ``ICE``, ``CBP``, ``Total``. ADP/ALOS group rows ``CBP Average`` / ``ICE Average  `` map to
  CBP / ICE; the plain ``Average`` row (with or without trailing space) is the all-agency ``Total``.
* criminality: ``Convicted Criminal``, ``Pending Criminal Charges``, ``Other Immigration Violator``,
  ``Total``; singular/plural and case variants map onto these. One category cannot: the FY19 ADP table
  (and the facility ADP columns ``Male/Female Non-Crim``) use ``Non-Criminal``, which is everyone not
  convicted (Pending Criminal Charges + Other Immigration Violator: in FY19 Convicted + Non-Criminal
  equals the agency average exactly). It is kept as the fifth value ``Non-Criminal`` rather than forced
  into one of the four. Facility columns ``Male/Female Crim`` map to ``Convicted Criminal`` (summed over
  facilities they track the national Convicted Criminal ADP, e.g. FY23 7,935 vs 8,008).
* release_reason: the workbook label without a trailing `` Total``, spelled as in the FY25 workbooks
  (``Order of supervision`` -> ``Order of Supervision``); the grand-total row is ``Total``. Note that
  ``Bond Set by ICE`` and ``Bond Set by IJ`` are the two parts of ``Bonded Out``; summing all reasons
  double-counts bonds. Tables titled "ICE Final Releases ..." (FY19 - Jan 2024) list release reasons
  only, without removals, so their ``Total`` is total releases; those rows carry a note saying so.
* facility_type (national tables): the column/row label as printed (``FRC``, ``FSC``, ``Adult``, ``Total``).
  In the facility measures it is the facility's ``Type Detailed`` (``IGSA``, ``DIGSA``, ``CDF``, ...).

Facility rows keep the institution name, AOR, state and type; street address, city and ZIP are dropped.
A facility printed twice with different figures (NASSAU COUNTY CORRECTIONAL CENTER in the 07/07/2025 copy)
keeps both rows; the repeat carries the extra dim ``listing`` = "2" so every observation key stays unique.

Edition: original_url is ICE's URL pattern with the file name stripped of a web-archive capture prefix
(``YYYYMMDDhhmmss-``) and of a third party's ``_markedup`` suffix; published_on comes from the date in the
file name (MMDDYYYY, MMDDYY or YYMMDD, whichever falls near the fiscal year), None when there is none.

As-of date: the Facilities sheet's IIDS line, as the edition's single as-of date. Some editions' Detention
tables were pulled a few days later (the 05/12/2025 edition: Facilities 04/28, Footnotes say detention data
through 05/03); their counts for days after the as-of date fall in a month that starts after it and are
not emitted, which the warnings report per table.

Safety limits on the zip container, checked from the central directory before the workbook is handed to
fastexcel: at most 10,000 members, no member over 200 MB uncompressed, no member over 10 MB with a
compression ratio above 200, at most 1 GB uncompressed in total. The largest real workbook (June 2025 on)
has an 11 MB sheet compressed about 8.5:1, well inside these limits. Formula cells must carry cached
values: a re-saved copy whose formulas have none (openpyxl writes none) would otherwise read as blanks.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from xml.etree import ElementTree

import fastexcel

from icetrack.domain.edition import EditionInfo, ParsedSource, SourceError, file_digest, observations_table

PARSER_VERSION = "1"
SOURCE = "ice_detention_workbook"
PUBLISHER = "U.S. Immigration and Customs Enforcement, Enforcement and Removal Operations"
URL_BASE = "https://www.ice.gov/doclib/detention/"

MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)  # corrupt, truncated, odd method

UNIT_PERSONS = "persons"
UNIT_ADP = "persons (average daily population, midnight)"
UNIT_DAYS = "days"

AGENCIES = ("ICE", "CBP", "Total")
CRIMINALITIES = ("Convicted Criminal", "Pending Criminal Charges", "Other Immigration Violator", "Total")
NON_CRIMINAL = "Non-Criminal"

_CRIMINALITY_BY_KEY = {
    "total": "Total",
    "convicted criminal": "Convicted Criminal",
    "convicted criminals": "Convicted Criminal",
    "crim": "Convicted Criminal",
    "pending criminal charges": "Pending Criminal Charges",
    "pending criminal charge": "Pending Criminal Charges",
    "other immigration violator": "Other Immigration Violator",
    "other immigration violators": "Other Immigration Violator",
    "non criminal": NON_CRIMINAL,
    "non crim": NON_CRIMINAL,
}

_RELEASE_REASONS = (
    "Bonded Out",
    "Bond Set by ICE",
    "Bond Set by IJ",
    "Order of Recognizance",
    "Order of Supervision",
    "Paroled",
    "Proceedings Terminated",
    "Release to Remove",
    "Relief Granted by IJ",
    "Transfer to U.S. Marshals or other agency",
    "Transferred",
    "Other",
    "Court Ordered",
    "Prosecutorial Discretion",
    "Total",
)

_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH_FULL_NAMES = {"january", "february", "march", "april", "may", "june", "july", "august",
                     "september", "sept", "october", "november", "december"}

_ARCHIVE_PREFIX = re.compile(r"^\d{14}-")
_THIRD_PARTY_SUFFIX = re.compile(r"_markedup(?=\.xls[xm]$)", re.IGNORECASE)
_NAME_DATE = re.compile(r"detentionstats[_-]?(\d{8}|\d{6})(?!\d)", re.IGNORECASE)
_NAME_FY = re.compile(r"^FY(\d{2})", re.IGNORECASE)
_TEXT_FY = re.compile(r"FY\s?(\d{4}|\d{2})(?!\d)", re.IGNORECASE)
_AS_OF = re.compile(r"\(IIDS\)\W*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)", re.IGNORECASE)

# Sheet XML: a formula (<f>..</f> or a shared-formula <f .../>) followed directly by the end of its cell,
# or by an empty <v/>: a formula cell without a cached value. Element names may carry a namespace prefix.
_XML_UNCACHED_FORMULA = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>")
_XML_CELL_START = re.compile(rb"<(?:\w+:)?c\s")
_XML_REF = re.compile(rb'\br="([A-Z]+\d+)"')


# --- title patterns (matched against _key(title): lower case, punctuation -> space) -------------------

TITLE_CURRENTLY_DETAINED = re.compile(r"^ice currently detained by criminality and arresting agency\b")
TITLE_DISPOSITION = re.compile(r"^ice currently detained by processing disposition\b")
TITLE_BOOK_INS = re.compile(r"^ice initial book ins by arresting agency and month\b")
# FY24/early-FY25 editions title it "...Book-Ins by Criminality" but still lay it out by facility type.
TITLE_BOOK_INS_BY_FACILITY = re.compile(r"^ice initial book ins by (?:facility type and )?criminality\b")
TITLE_BOOK_OUTS = re.compile(r"^ice final (?:book outs|releases) by release reason\b")
# "ICE Final Book Outs by Facility Type: FY2025", "ICE Final Book Outs : FY2025", "ICE Final Releases: FY2024"
TITLE_BOOK_OUTS_BY_FACILITY = re.compile(
    r"^ice final (?:book outs|releases)(?: by facility type)?(?: (?:eo)?fy ?\d.*)?$")
TITLE_REMOVALS = re.compile(r"^ice removals\b")
TITLE_ADP = re.compile(r"^ice average daily population by arresting agency\b")
TITLE_ALOS = re.compile(r"^ice average length of stay by arresting agency\b")
TITLE_ADP_BY_FACILITY = re.compile(r"^ice average daily population by (?:facility type and )?month\b")
TITLE_ALOS_BY_FACILITY = re.compile(r"^ice average length of stay by (?:facility type and )?month\b")

REQUIRED_TABLES = {
    "ICE Currently Detained by Criminality and Arresting Agency": TITLE_CURRENTLY_DETAINED,
    "ICE Initial Book-Ins by Arresting Agency and Month": TITLE_BOOK_INS,
    "ICE Removals: FYxx": TITLE_REMOVALS,
}


# --- public API ---------------------------------------------------------------------------------------

def looks_like_workbook(path: str | Path) -> bool:
    """Cheap format sniff: an .xlsx/.xlsm name and the zip local-header magic."""
    p = Path(path)
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with open(p, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def parse_workbook(path: str | Path) -> ParsedSource:
    """Parse one ICE detention-statistics workbook into its edition info and long-format observations."""
    return _parse(Path(path), _FastexcelWorkbook)


class _Workbook(Protocol):
    """The cell source: sheet names and one sheet at a time as a _Grid (fastexcel here; the openpyxl
    speed baseline in benchmarks/ plugs in its own)."""

    sheet_names: list[str]

    def grid(self, sheet: str) -> _Grid: ...


def _parse(path: Path, open_workbook: Callable[[Path], _Workbook]) -> ParsedSource:
    sheet_xml_paths = _check_container(path)
    workbook = open_workbook(path)
    detention_sheet = _find_sheet(workbook.sheet_names, "detention")
    if detention_sheet is None:
        raise SourceError(path, "required table 'ICE Currently Detained by Criminality and Arresting Agency' "
                                "not found: the workbook has no 'Detention ...' sheet", where="workbook")
    facilities_sheet = _find_sheet(workbook.sheet_names, "facilities")
    _check_cached_values(path, sheet_xml_paths, [s for s in (detention_sheet, facilities_sheet) if s])

    warnings: list[str] = []
    detention = workbook.grid(detention_sheet)
    facilities = workbook.grid(facilities_sheet) if facilities_sheet else None
    if facilities is None:
        warnings.append("no 'Facilities ...' sheet: facility_adp and facility_alos not emitted")
    as_of = _find_as_of(path, workbook, [g for g in (facilities, detention) if g is not None])

    required = {name: _locate_table(detention, pattern) for name, pattern in REQUIRED_TABLES.items()}
    for name, table in required.items():
        if table is None:
            raise SourceError(path, f"required table '{name}' not found (title renamed or missing)",
                              where=f"{detention_sheet.strip()} / {name}")
    book_ins = required["ICE Initial Book-Ins by Arresting Agency and Month"]
    fiscal_year = _fiscal_year(path, book_ins, detention_sheet, warnings)
    edition = _edition_info(path, fiscal_year, as_of)
    ctx = _Context(path=path, fiscal_year=fiscal_year, as_of=as_of, source_url=edition.original_url or "",
                   warnings=warnings)
    if as_of < ctx.fy_start:
        warnings.append(f"as-of date {as_of} is before the start of FY{fiscal_year}")

    _read_currently_detained(ctx, required["ICE Currently Detained by Criminality and Arresting Agency"])
    _read_book_ins(ctx, book_ins)
    _read_removals(ctx, required["ICE Removals: FYxx"])
    for name, pattern, read in _OPTIONAL_TABLES:
        table = _locate_table(detention, pattern)
        if table is None:
            warnings.append(f"optional table not found on sheet '{detention_sheet.strip()}': {name}")
        else:
            read(ctx, table)
    if facilities is not None:
        _read_facilities(ctx, facilities)
    for where, count in ctx.future_values.items():
        warnings.append(f"{where}: {count} non-zero values in months starting after the as-of date {as_of} "
                        "not emitted (this table was evidently pulled later than the Facilities sheet's date)")
    return ParsedSource(edition=edition, observations=observations_table(ctx.rows), warnings=warnings)


# --- container checks ---------------------------------------------------------------------------------

def _check_container(path: Path) -> dict[str, str]:
    """Refuse non-zip, truncated and zip-bomb files; return {sheet name: sheet XML member name}."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if magic != b"PK\x03\x04":
        raise SourceError(path, "not an xlsx workbook: the file does not start with a zip signature")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_zip_sizes(path, infos)
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise SourceError(path, "not an xlsx workbook: the zip has no xl/workbook.xml")
            return _sheet_xml_paths(path, zf)
    except _ZIP_ERRORS as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {_one_line(exc)}") from exc


def _check_zip_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SourceError(path, f"refused as a possible zip bomb: {len(infos)} members (limit {MAX_ZIP_MEMBERS})")
    total = 0
    for info in infos:
        size, packed = info.file_size, max(info.compress_size, 1)
        if size > MAX_MEMBER_BYTES:
            raise SourceError(path, f"refused as a possible zip bomb: member {info.filename} expands to "
                                    f"{size:,} bytes (limit {MAX_MEMBER_BYTES:,})")
        if size > RATIO_CHECK_MIN_BYTES and size / packed > MAX_COMPRESSION_RATIO:
            raise SourceError(path, f"refused as a possible zip bomb: member {info.filename} has compression "
                                    f"ratio {size / packed:,.0f}:1 (limit {MAX_COMPRESSION_RATIO}:1)")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise SourceError(path, f"refused as a possible zip bomb: {total:,} bytes uncompressed in total "
                                f"(limit {MAX_TOTAL_BYTES:,})")


def _sheet_xml_paths(path: Path, zf: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet names to their XML members via workbook.xml and its relationships."""
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError) as exc:
        raise SourceError(path, f"not a readable xlsx workbook: {_one_line(exc)}") from exc
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    result = {}
    for sheet in workbook.iter(f"{ns_main}sheet"):
        target = targets.get(sheet.get(f"{ns_rel}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        result[sheet.get("name", "")] = member
    return result


def _check_cached_values(path: Path, sheet_xml_paths: dict[str, str], sheets: list[str]) -> None:
    """Raise if a formula cell in one of the sheets we read has no cached value.

    fastexcel reads cached values only; a formula without one would come back as a blank, i.e. a number
    silently lost. ICE's originals always carry cached values; files re-saved by tools that do not
    compute (openpyxl) do not.
    """
    with zipfile.ZipFile(path) as zf:
        for sheet in sheets:
            member = sheet_xml_paths.get(sheet)
            if member is None:
                continue
            try:
                xml = zf.read(member)
            except KeyError:
                raise SourceError(path, f"sheet XML {member} is missing from the workbook",
                                  where=sheet.strip()) from None
            except _ZIP_ERRORS as exc:
                raise SourceError(path, f"sheet XML {member} is corrupt: {_one_line(exc)}",
                                  where=sheet.strip()) from exc
            cell = _first_uncached_formula(xml)
            if cell:
                raise SourceError(path, f"formula cell {cell} has no cached value (re-saved without "
                                        "recalculation?); its number cannot be read", where=sheet.strip())


def _first_uncached_formula(xml: bytes) -> str | None:
    """Reference of the first formula cell with no (or an empty) cached value, else None."""
    match = _XML_UNCACHED_FORMULA.search(xml)
    if match is None:
        return None
    # The cell's start tag sits just before its formula; name the cell from its r="..." attribute.
    starts = list(_XML_CELL_START.finditer(xml, max(0, match.start() - 4096), match.start()))
    ref = _XML_REF.search(xml, starts[-1].start(), match.start()) if starts else None
    return ref.group(1).decode() if ref else "(unknown cell)"


# --- sheet access ---------------------------------------------------------------------------------------

def _find_sheet(sheet_names: list[str], prefix: str) -> str | None:
    for name in sheet_names:
        if _key(name).startswith(prefix):
            return name
    return None


class _Grid:
    """One sheet as two aligned views: cell text (labels) and cell numbers (values)."""

    def __init__(self, sheet: str, texts: list[list[Any]], numbers: list[list[Any]]):
        self.sheet = sheet
        self._texts = texts
        self._numbers = numbers
        self.n_cols = len(texts)
        self.n_rows = len(texts[0]) if texts else 0
        self._title_cells: list[tuple[int, int, str]] | None = None

    def text(self, row: int, col: int) -> str:
        if row >= self.n_rows or col >= self.n_cols:
            return ""
        raw = self._texts[col][row]
        return _norm(raw) if raw else ""

    def key(self, row: int, col: int) -> str:
        return _key(self.text(row, col))

    def number(self, row: int, col: int) -> float | None:
        if row >= self.n_rows or col >= self.n_cols:
            return None
        value = self._numbers[col][row]
        if value is None or not math.isfinite(value):
            return None
        return float(value)

    def row_is_blank(self, row: int, first_col: int, end_col: int) -> bool:
        return all(not self.text(row, c) for c in range(first_col, end_col))

    def find(self, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """First cell (row by row) whose key matches a title pattern."""
        if self._title_cells is None:
            # Titles are long text cells; skipping numbers and short labels keeps the scan cheap.
            cells = []
            for col, column in enumerate(self._texts):
                for row, raw in enumerate(column):
                    if raw and len(raw) >= 12 and raw.lstrip()[:1].isalpha():
                        cells.append((row, col, _key(raw)))
            self._title_cells = sorted(cells)
        for row, col, key in self._title_cells:
            if pattern.search(key):
                return row, col
        return None

    def all_text(self):
        for col in self._texts:
            for raw in col:
                if raw:
                    yield raw


class _FastexcelWorkbook:
    def __init__(self, path: Path):
        self.path = path
        try:
            self._reader = fastexcel.read_excel(str(path))
            self.sheet_names = list(self._reader.sheet_names)
        except Exception as exc:  # fastexcel raises several unrelated exception types
            raise SourceError(path, f"cannot open workbook: {_one_line(exc)}") from exc

    def grid(self, sheet: str) -> _Grid:
        # Loaded twice (the second load reuses calamine's parsed sheet): as text for labels and as float
        # for values, so numbers keep full precision instead of passing through a string rendering.
        try:
            texts = self._reader.load_sheet(sheet, header_row=None, dtypes="string", eager=True)
            numbers = self._reader.load_sheet(sheet, header_row=None, dtypes="float", eager=True)
        except Exception as exc:
            raise SourceError(self.path, f"cannot read sheet: {_one_line(exc)}", where=sheet.strip()) from exc
        return _Grid(sheet,
                     [texts.column(i).to_pylist() for i in range(texts.num_columns)],
                     [numbers.column(i).to_pylist() for i in range(numbers.num_columns)])


# --- edition --------------------------------------------------------------------------------------------

def _find_as_of(path: Path, workbook: _Workbook, grids: list[_Grid]) -> date:
    """The 'Data Source: ICE Integrated Decision Support (IIDS), MM/DD/YYYY' line (Facilities sheet first)."""
    for grid in grids:
        found = _as_of_in(grid.all_text())
        if found:
            return found
    loaded = {g.sheet for g in grids}
    for sheet in workbook.sheet_names:
        if sheet in loaded or "segregation" in _key(sheet):
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


def _fiscal_year(path: Path, book_ins: _Table, sheet: str, warnings: list[str]) -> int:
    from_name = _NAME_FY.match(_original_file_name(path.name))
    name_fy = 2000 + int(from_name.group(1)) if from_name else None
    for text in (book_ins.title, sheet):
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
                      where=book_ins.where)


def _original_file_name(name: str) -> str:
    """ICE's file name: without a web-archive capture prefix or a third party's '_markedup' suffix."""
    return _THIRD_PARTY_SUFFIX.sub("", _ARCHIVE_PREFIX.sub("", name))


def _published_on(name: str, fiscal_year: int) -> date | None:
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


def _edition_info(path: Path, fiscal_year: int, as_of: date) -> EditionInfo:
    sha256, size = file_digest(path)
    original_name = _original_file_name(path.name)
    third_party = "third-party-modified" in path.parts
    return EditionInfo(
        source=SOURCE,
        publisher=PUBLISHER,
        file_name=path.name,
        sha256=sha256,
        size_bytes=size,
        parser_version=PARSER_VERSION,
        original_url=URL_BASE + original_name,
        published_on=_published_on(original_name, fiscal_year),
        as_of=as_of,
        title=f"ICE detention statistics FY{fiscal_year % 100:02d}",
        note="third-party copy" if third_party else None,
    )


# --- tables ---------------------------------------------------------------------------------------------

@dataclass
class _Table:
    grid: _Grid
    title: str
    title_row: int
    first_col: int
    end_col: int
    header_row: int | None
    body: list[int]

    @property
    def where(self) -> str:
        return f"{self.grid.sheet.strip()} / {self.title}"

    def label(self, row: int) -> str:
        """The row's label: the text in the table's first column."""
        return self.grid.text(row, self.first_col)

    @cached_property
    def columns(self) -> list[tuple[int, str]]:
        """(column, header text) for the non-blank header cells right of the label column."""
        if self.header_row is None:
            return []
        return [(c, self.grid.text(self.header_row, c)) for c in range(self.first_col + 1, self.end_col)
                if self.grid.text(self.header_row, c)]

    @cached_property
    def period_columns(self) -> list[tuple[int, int | None, bool]]:
        """(column, month number or None, whether it is the fiscal-year total column)."""
        return [(c, _month_of(h), _is_fy_total(h)) for c, h in self.columns]


def _locate_table(grid: _Grid, pattern: re.Pattern[str]) -> _Table | None:
    """Find a table by its title; it spans to the next title on the same row and down to a blank row."""
    found = grid.find(pattern)
    if found is None:
        return None
    row, col = found
    end_col = next((c for c in range(col + 1, grid.n_cols) if grid.text(row, c)), grid.n_cols)
    header_row = next((r for r in range(row + 1, grid.n_rows) if not grid.row_is_blank(r, col, end_col)), None)
    body = []
    if header_row is not None:
        for r in range(header_row + 1, grid.n_rows):
            if grid.row_is_blank(r, col, end_col):
                break
            body.append(r)
    return _Table(grid, grid.text(row, col), row, col, end_col, header_row, body)


@dataclass
class _Context:
    path: Path
    fiscal_year: int
    as_of: date
    source_url: str
    warnings: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    future_values: dict[str, int] = field(default_factory=dict)  # table -> non-zero cells after as-of

    def __post_init__(self) -> None:
        self.fy_start = date(self.fiscal_year - 1, 10, 1)
        # Year-end editions are pulled after 30 Sep, but their figures still end with the fiscal year.
        self.fytd_end = min(self.as_of, date(self.fiscal_year, 9, 30))
        self.month_periods = {}
        for month in range(1, 13):
            year = self.fiscal_year - 1 if month >= 10 else self.fiscal_year
            self.month_periods[month] = (date(year, month, 1), date(year, month, monthrange(year, month)[1]))

    def add(self, measure: str, grain: str, start: date, end: date, dims: dict[str, str], value: float,
            unit: str, note: str | None = None) -> None:
        if value < 0:
            self.warnings.append(f"negative value {value} for {measure} {dims} {start}")
        self.rows.append({"measure": measure, "period_start": start, "period_end": end, "grain": grain,
                          "dims": dims, "value": value, "unit": unit, "source_url": self.source_url,
                          "note": note})

    def add_snapshot(self, measure: str, dims: dict[str, str], value: float, unit: str) -> None:
        self.add(measure, "snapshot", self.as_of, self.as_of, dims, value, unit)

    def add_fytd(self, measure: str, dims: dict[str, str], value: float, unit: str, note: str | None = None) -> None:
        self.add(measure, "fytd", self.fy_start, self.fytd_end, dims, value, unit, note)

    def add_month(self, measure: str, month: int, dims: dict[str, str], value: float, unit: str,
                  note: str | None = None, where: str = "") -> None:
        start, end = self.month_periods[month]
        if start > self.as_of:
            # ICE pre-fills the months still to come with 0; that is not a reported zero. A few editions
            # hold real counts for the first days after the Facilities as-of date (their Detention tables
            # were pulled a few days later); those are dropped too, and counted for one warning per table.
            if value != 0:
                self.future_values[where] = self.future_values.get(where, 0) + 1
            return
        if end > self.as_of:
            note = "; ".join(filter(None, [note, f"partial month: data as of {self.as_of}"]))
        self.add(measure, "month", start, end, dims, value, unit, note)

    def warn_unknown(self, table: _Table, what: str, label: str) -> None:
        self.warnings.append(f"{table.where}: unrecognised {what} '{label}' kept as printed")


def _month_of(header: str) -> int | None:
    key = _key(header)
    if key in _MONTHS:
        return _MONTHS[key]
    if key in _MONTH_FULL_NAMES:
        return _MONTHS[key[:3]]
    return None


def _is_fy_total(header: str) -> bool:
    return _key(header) in ("fy overall", "fy total", "fytd", "total", "fy ytd")


def _emit_series(ctx: _Context, table: _Table, row: int, measure: str, unit: str, dims: dict[str, str], *,
                 fy_total_column: bool, note: str | None = None) -> None:
    """Emit the month columns of one row (and its FY-total column when that is not just a sum)."""
    for col, month, is_fy_total in table.period_columns:
        value = table.grid.number(row, col)
        if value is None:
            continue
        if month is not None:
            ctx.add_month(measure, month, dims, value, unit, note=note, where=table.where)
        elif fy_total_column and is_fy_total:
            ctx.add_fytd(measure, dims, value, unit, note=note)


def _require_values(ctx: _Context, table: _Table, before: int) -> None:
    if len(ctx.rows) == before:
        raise SourceError(ctx.path, "required table has no readable values (layout not recognised)",
                          where=table.where)


def _read_currently_detained(ctx: _Context, table: _Table) -> None:
    before = len(ctx.rows)
    agency_columns = [(c, _agency(h)) for c, h in table.columns if not _key(h).startswith("percent")]
    for _, agency in agency_columns:
        if agency not in AGENCIES:
            ctx.warn_unknown(table, "agency column", agency)
    for row in table.body:
        criminality = _criminality(ctx, table, table.label(row))
        for col, agency in agency_columns:
            value = table.grid.number(row, col)
            if value is not None:
                ctx.add_snapshot("currently_detained", {"criminality": criminality, "agency": agency}, value,
                                 UNIT_PERSONS)
    _require_values(ctx, table, before)
    if not any(r["measure"] == "currently_detained" and r["dims"] == {"criminality": "Total", "agency": "Total"}
               for r in ctx.rows[before:]):
        raise SourceError(ctx.path, "no Total/Total cell in the currently-detained table", where=table.where)


def _read_disposition(ctx: _Context, table: _Table) -> None:
    for row in table.body:
        disposition = table.label(row)
        for col, facility_type in table.columns:
            value = table.grid.number(row, col)
            if value is not None and disposition:
                ctx.add_snapshot("currently_detained_by_disposition",
                                 {"disposition": disposition, "facility_type": facility_type}, value, UNIT_PERSONS)


def _read_book_ins(ctx: _Context, table: _Table) -> None:
    before = len(ctx.rows)
    for row in table.body:
        agency = _agency(table.label(row))
        if agency not in AGENCIES:
            ctx.warn_unknown(table, "agency", agency)
        _emit_series(ctx, table, row, "book_ins", "book-ins", {"agency": agency}, fy_total_column=False)
    _require_values(ctx, table, before)


def _read_book_ins_by_facility_type(ctx: _Context, table: _Table) -> None:
    # Rows are facility types, columns criminality; the figures are fiscal-year-to-date totals.
    columns = [(c, _criminality(ctx, table, h)) for c, h in table.columns]
    for row in table.body:
        facility_type = table.label(row)
        for col, criminality in columns:
            value = table.grid.number(row, col)
            if value is not None and facility_type:
                ctx.add_fytd("book_ins_by_facility_type", {"facility_type": facility_type, "criminality": criminality},
                             value, "book-ins")


def _read_book_outs(ctx: _Context, table: _Table) -> None:
    note = None
    if "releases" in _key(table.title):
        note = "published as 'ICE Final Releases': release reasons only, removals not included"
    headers = table.columns
    criminality_col = next((c for c, h in headers if _key(h) == "criminality"), None)
    if criminality_col is not None:
        _read_book_outs_by_month(ctx, table, criminality_col, note)
    else:
        _read_book_outs_fy_totals(ctx, table, headers, note)


def _read_book_outs_by_month(ctx: _Context, table: _Table, criminality_col: int, note: str | None) -> None:
    # Two-level rows: "<reason> | Total | months" then "(blank) | <criminality> | months" per criminality.
    # The grand-total row has a reason of "Total" and a blank criminality cell.
    reason = None
    for row in table.body:
        label = table.label(row)
        if label:
            reason = _release_reason(ctx, table, label)
        if reason is None:
            continue
        criminality_label = table.grid.text(row, criminality_col)
        criminality = _criminality(ctx, table, criminality_label) if criminality_label else "Total"
        _emit_series(ctx, table, row, "book_outs", "book-outs",
                     {"release_reason": reason, "criminality": criminality}, fy_total_column=False, note=note)


def _read_book_outs_fy_totals(ctx: _Context, table: _Table, headers: list[tuple[int, str]], note: str | None) -> None:
    # FY19/FY20 layout: one row per reason, one column per criminality, values for the fiscal year so far.
    columns = [(c, _criminality(ctx, table, h)) for c, h in headers]
    for row in table.body:
        label = table.label(row)
        if not label:
            continue
        reason = _release_reason(ctx, table, label)
        for col, criminality in columns:
            value = table.grid.number(row, col)
            if value is not None:
                ctx.add_fytd("book_outs", {"release_reason": reason, "criminality": criminality}, value,
                             "book-outs", note=note)


def _read_book_outs_by_facility_type(ctx: _Context, table: _Table) -> None:
    # One "Total" column (fiscal year to date) per facility type in every layout seen; months if ever added.
    for row in table.body:
        facility_type = table.label(row)
        if facility_type:
            _emit_series(ctx, table, row, "book_outs_by_facility_type", "book-outs", {"facility_type": facility_type},
                         fy_total_column=True)


def _read_removals(ctx: _Context, table: _Table) -> None:
    # "ICE Removals: FY2025" | "Removals" .. "Total" header | "Total" row with one number to its right.
    # Sub-rows such as "Removals with a FAMU Identifier" are a different measure and not emitted.
    for row in table.body:
        if _key(table.label(row)) == "total":
            for col in range(table.first_col + 1, table.end_col):
                value = table.grid.number(row, col)
                if value is not None:
                    ctx.add_fytd("removals_fytd", {}, value, "removals")
                    return
    raise SourceError(ctx.path, "no 'Total' value in the removals table", where=table.where)


_AGENCY_GROUP = re.compile(r"^(?:(ice|cbp) )?average$")


def _read_agency_criminality_averages(ctx: _Context, table: _Table, measure: str, unit: str) -> None:
    # Group rows "CBP Average" / "ICE Average" / "Average" (all agencies) each followed by criminality rows.
    agency = None
    for row in table.body:
        label = table.label(row)
        group = _AGENCY_GROUP.match(_key(label))
        if group:
            agency = group.group(1).upper() if group.group(1) else "Total"
            criminality = "Total"
        elif agency is None:
            ctx.warn_unknown(table, "row before any agency group", label)
            continue
        else:
            criminality = _criminality(ctx, table, label)
        _emit_series(ctx, table, row, measure, unit, {"agency": agency, "criminality": criminality},
                     fy_total_column=True)


def _read_facility_type_averages(ctx: _Context, table: _Table, measure: str, unit: str) -> None:
    for row in table.body:
        facility_type = table.label(row)
        if facility_type:
            _emit_series(ctx, table, row, measure, unit, {"facility_type": facility_type}, fy_total_column=True)


# Optional national tables: (name used in warnings, title pattern, reader). Absent ones become warnings.
_OPTIONAL_TABLES: list[tuple[str, re.Pattern[str], Callable[[_Context, _Table], None]]] = [
    ("ICE Currently Detained by Processing Disposition", TITLE_DISPOSITION, _read_disposition),
    ("ICE Initial Book-Ins by Facility Type and Criminality", TITLE_BOOK_INS_BY_FACILITY,
     _read_book_ins_by_facility_type),
    ("ICE Final Book Outs by Release Reason, Month and Criminality", TITLE_BOOK_OUTS, _read_book_outs),
    ("ICE Final Book Outs by Facility Type", TITLE_BOOK_OUTS_BY_FACILITY, _read_book_outs_by_facility_type),
    ("ICE Average Daily Population by Arresting Agency, Month and Criminality", TITLE_ADP,
     lambda ctx, table: _read_agency_criminality_averages(ctx, table, "adp", UNIT_ADP)),
    ("ICE Average Length of Stay by Arresting Agency, Month and Criminality", TITLE_ALOS,
     lambda ctx, table: _read_agency_criminality_averages(ctx, table, "alos", UNIT_DAYS)),
    ("ICE Average Daily Population by Facility Type and Month", TITLE_ADP_BY_FACILITY,
     lambda ctx, table: _read_facility_type_averages(ctx, table, "adp_by_facility_type", UNIT_ADP)),
    ("ICE Average Length of Stay by Facility Type and Month", TITLE_ALOS_BY_FACILITY,
     lambda ctx, table: _read_facility_type_averages(ctx, table, "alos_by_facility_type", UNIT_DAYS)),
]


# --- facilities sheet -----------------------------------------------------------------------------------

_FOOTNOTE_MARKERS = ("[", "(*)", "*")
_GENDER_CRIMINALITY = re.compile(r"^(male|female) (crim|non crim)$")


def _facility_column_kind(header: str) -> tuple[str, dict[str, str]] | None:
    """Which facility measure a Facilities header feeds, with the dims it adds (None: not a measure)."""
    key = _key(header)
    if re.fullmatch(r"(?:fy ?\d{2,4} )?alos", key):
        return "facility_alos", {}
    if re.fullmatch(r"level [a-d]", key):
        return "facility_adp", {"breakdown": "level", "category": header}
    match = _GENDER_CRIMINALITY.fullmatch(key)
    if match:
        return "facility_adp", {"breakdown": "gender_criminality", "category": header,
                                "gender": match.group(1).title(), "criminality": _CRIMINALITY_BY_KEY[match.group(2)]}
    if "threat level" in key:
        return "facility_adp", {"breakdown": "threat", "category": header}
    if key == "mandatory":
        return "facility_adp", {"breakdown": "mandatory", "category": header}
    return None


def _read_facilities(ctx: _Context, grid: _Grid) -> None:
    where = f"{grid.sheet.strip()} / facility list"
    header_row = next((r for r in range(grid.n_rows)
                       if any(grid.key(r, c) == "name" for c in range(grid.n_cols))
                       and any(grid.key(r, c) == "aor" for c in range(grid.n_cols))), None)
    if header_row is None:
        ctx.warnings.append(f"{where}: header row with 'Name' and 'AOR' not found; facilities not read")
        return
    columns = {grid.key(header_row, c): c for c in range(grid.n_cols) if grid.text(header_row, c)}
    name_col = columns["name"]
    attribute_cols = {dim: columns.get(header) for dim, header in
                      (("aor", "aor"), ("facility_type", "type detailed"), ("state", "state"))}
    measure_cols = [(c, kind) for c in range(grid.n_cols)
                    if (kind := _facility_column_kind(grid.text(header_row, c))) is not None]
    seen: dict[tuple[tuple[str, str], ...], int] = {}
    for row in range(header_row + 1, grid.n_rows):
        name = grid.text(row, name_col)
        if not name or name.startswith(_FOOTNOTE_MARKERS):
            break
        facility = {"facility": name}
        facility.update({dim: grid.text(row, col) for dim, col in attribute_cols.items()
                         if col is not None and grid.text(row, col)})
        identity = tuple(sorted(facility.items()))
        listing = seen.get(identity, 0) + 1
        seen[identity] = listing
        if listing > 1:
            # Same name, AOR, state and type on two rows with different figures (two facility codes?):
            # number the repeat so each observation keeps a unique key.
            facility["listing"] = str(listing)
            ctx.warnings.append(f"{where}: '{name}' is listed {listing} times (row {row + 1}); the repeat "
                                f"carries dim listing={listing}")
        for col, (measure, extra_dims) in measure_cols:
            value = grid.number(row, col)
            if value is None:
                continue
            ctx.add_fytd(measure, {**facility, **extra_dims}, value,
                         UNIT_DAYS if measure == "facility_alos" else UNIT_PERSONS)


# --- labels ---------------------------------------------------------------------------------------------

def _norm(text: Any) -> str:
    """Strip and collapse whitespace (including non-breaking spaces)."""
    return " ".join(str(text).split())


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _key(text: Any) -> str:
    """Case- and punctuation-insensitive form used to match titles and labels."""
    return " ".join(_NON_ALNUM.sub(" ", str(text).lower()).split())


def _agency(label: str) -> str:
    key = _key(label)
    if key in ("ice", "cbp"):
        return key.upper()
    if key in ("total", ""):
        return "Total"
    return _norm(label)


def _criminality(ctx: _Context, table: _Table, label: str) -> str:
    canonical = _CRIMINALITY_BY_KEY.get(_key(label))
    if canonical is None:
        ctx.warn_unknown(table, "criminality", label)
        return _norm(label)
    return canonical


_REASON_BY_KEY = {_key(reason): reason for reason in _RELEASE_REASONS}


def _release_reason(ctx: _Context, table: _Table, label: str) -> str:
    text = _norm(label)
    if _key(text) != "total":
        text = re.sub(r"\s+total$", "", text, flags=re.IGNORECASE)
    canonical = _REASON_BY_KEY.get(_key(text))
    if canonical is None:
        ctx.warn_unknown(table, "release reason", text)
        return text
    return canonical


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
