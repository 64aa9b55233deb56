"""Bounded access to an xlsx workbook: the zip container checked before fastexcel opens it, and one sheet at
a time as a :class:`Grid` of cell texts and numbers.

Safety limits on the zip container, checked from the central directory: at most 10,000 members, no member
over 200 MB uncompressed, no member over 10 MB with a compression ratio above 200, at most 1 GB uncompressed
in total. Then what fastexcel (calamine) will read is inflated here first, within :data:`LIMITS`: every part
that is not a worksheet when the workbook is opened (a zip header may understate a part's size), and each
worksheet, with its extent, before it is loaded (calamine allocates rows x columns cells for a sheet).
Encrypted parts are refused. Formula cells must carry cached values: a re-saved copy whose formulas have none
(openpyxl writes none) would otherwise read as blanks, so such a file is refused.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any, Protocol
from xml.etree import ElementTree

import fastexcel

from icetrack.domain.edition import SourceError
from icetrack.sources.files import (
    MAX_XLSX_PART_BYTES,
    MIB,
    OPENED_PARTS,
    XlsxLimits,
    calamine_member,
    check_file,
    check_members,
    file_identity,
    inflate_member,
    member_candidates,
    scan_sheet,
    sheet_parts,
    verify_parts,
)
from icetrack.sources.ice_detention.labels import text_key
from icetrack.sources.ice_detention.sheets import classify_sheet

MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)  # corrupt, truncated, odd method
# The whole file: the 30 real workbooks (FY19-FY26) are at most 1.5 MB; 64 MiB is 40 times that.
MAX_WORKBOOK_BYTES = 64 * MIB
# What fastexcel may load, measured on the same 30 workbooks: the sheets this reader loads span at most 236 rows
# and 50 columns (10,600 cells, 0.3 MB of XML); the largest other parts are styles.xml (136 KB) and
# sharedStrings.xml (82 KB). Peak memory at the cell limit is ~300 MB (calamine allocates 32 bytes a cell).
LIMITS = XlsxLimits(
    part_bytes=MAX_XLSX_PART_BYTES,  # 100x the largest real non-sheet part (styles.xml, 136 KB)
    shared_strings_bytes=16 * MIB,  # 200x the largest real sharedStrings.xml (82 KB)
    sheet_bytes=64 * MIB,  # 200x the largest sheet read (0.3 MB); 5x the 16,383-column segregation sheet (never read)
    columns=1_000,  # 20x the widest sheet read (50 columns); the format allows 16,384
    rows=1_048_576,  # the format's own maximum: the cell limit binds first
    cells=5_000_000,  # 470x the largest sheet read (10,600 cells)
)
# The last workbook checked, by file identity: ({sheet name: member}, {part name: zip entry}).
_SHEETS: dict[tuple, tuple[dict[str, str], dict[str, zipfile.ZipInfo]]] = {}

# Sheet XML: a formula (<f>..</f> or a shared-formula <f .../>) followed directly by the end of its cell,
# or by an empty <v/>: a formula cell without a cached value. Element names may carry a namespace prefix.
_XML_UNCACHED_FORMULA = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>")
_XML_CELL_START = re.compile(rb"<(?:\w+:)?c\s")
_XML_REF = re.compile(rb'\br="([A-Z]+\d+)"')


class Workbook(Protocol):
    """The cell source: sheet names and one sheet at a time as a Grid (fastexcel here; the openpyxl
    speed baseline in benchmarks/ plugs in its own)."""

    sheet_names: list[str]

    def grid(self, sheet: str) -> Grid: ...


def check_container(path: Path) -> dict[str, str]:
    """Refuse what is not a readable xlsx within :data:`LIMITS` (checked before fastexcel opens it: non-zip,
    truncated, encrypted, zip bombs, understated part sizes); return {sheet name: sheet XML member name}."""
    check_file(path, max_bytes=MAX_WORKBOOK_BYTES, what="detention workbook")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if magic != b"PK\x03\x04":
        raise SourceError(path, "not an xlsx workbook: the file does not start with a zip signature")
    key = file_identity(path)
    if key in _SHEETS:
        return dict(_SHEETS[key][0])
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_zip_sizes(path, infos)
            check_members(path, infos)
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise SourceError(path, "not an xlsx workbook: the zip has no xl/workbook.xml")
            _verify_named(path, zf, OPENED_PARTS[:2])
            sheets = _sheet_xml_paths(path, zf)
            verify_parts(path, infos, LIMITS, sheet_parts(sheets.values(), names) | set(OPENED_PARTS[:2]))
    except _ZIP_ERRORS as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {one_line(exc)}") from exc
    _SHEETS.clear()  # only the last workbook is kept: it is checked on parsing and again on opening
    _SHEETS[key] = (dict(sheets), {i.filename: i for i in infos})
    return sheets


def _verify_named(path: Path, zf: zipfile.ZipFile, members: tuple[str, ...]) -> None:
    """Inflate the parts read before the sheet list is known (workbook.xml and its relationships)."""
    for member in members:
        try:
            info = zf.getinfo(member)
        except KeyError:
            continue
        for _ in inflate_member(path, info, LIMITS.part_bytes):
            pass


def check_sheet(path: Path, member: str | None, sheet: str, *, keep: bool = False) -> bytes | None:
    """Inflate a worksheet (under every name calamine could read it by) within :data:`LIMITS` - actual size
    and extent - before fastexcel loads it; its XML when ``keep``."""
    cached = _SHEETS.get(file_identity(path))
    try:
        if cached is None:
            with zipfile.ZipFile(path) as zf:
                infos = {i.filename: i for i in zf.infolist()}
        else:
            infos = cached[1]
    except _ZIP_ERRORS as exc:
        raise SourceError(path, f"sheet XML {member} is corrupt: {one_line(exc)}", where=sheet.strip()) from exc
    candidates = member_candidates(member, infos) if member else []
    if not candidates:
        raise SourceError(path, f"sheet XML {member or '(none in workbook.xml)'} is missing from the workbook",
                          where=sheet.strip())
    xml = None
    for name in candidates:  # calamine reads the one named like `member`, ignoring case
        got = scan_sheet(path, infos[name], LIMITS, sheet.strip(), keep=keep and name.lower() == member.lower())
        xml = got if got is not None else xml
    return xml


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, read from its (size-checked) workbook.xml without opening it in fastexcel."""
    return list(check_container(path))


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
        raise SourceError(path, f"not a readable xlsx workbook: {one_line(exc)}") from exc
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    result = {}
    for sheet in workbook.iter(f"{ns_main}sheet"):
        target = targets.get(sheet.get(f"{ns_rel}id"), "")
        result[sheet.get("name", "")] = calamine_member(target)
    return result


def check_cached_values(path: Path, sheet_xml_paths: dict[str, str], sheets: list[str]) -> None:
    """Raise if a formula cell in one of the sheets we read has no cached value (the sheet's size and
    extent are checked on the way: see :func:`check_sheet`).

    fastexcel reads cached values only; a formula without one would come back as a blank, i.e. a number
    silently lost. ICE's originals always carry cached values; files re-saved by tools that do not
    compute (openpyxl) do not.
    """
    for sheet in sheets:
        member = sheet_xml_paths.get(sheet)
        if member is None:
            continue
        xml = check_sheet(path, member, sheet, keep=True) or b""
        cell = _first_uncached_formula(xml)
        if cell:
            raise SourceError(path, f"formula cell {cell} has no cached value (re-saved without "
                                    "recalculation?); its number cannot be read", where=sheet.strip())


def _first_uncached_formula(xml: bytes) -> str | None:
    """Reference of the first formula cell with no (or an empty) cached value, else None."""
    if b"<f" not in xml and b":f" not in xml:
        return None  # no formula element at all (a byte search, much faster than the pattern's)
    match = _XML_UNCACHED_FORMULA.search(xml)
    if match is None:
        return None
    # The cell's start tag sits just before its formula; name the cell from its r="..." attribute.
    starts = list(_XML_CELL_START.finditer(xml, max(0, match.start() - 4096), match.start()))
    ref = _XML_REF.search(xml, starts[-1].start(), match.start()) if starts else None
    return ref.group(1).decode() if ref else "(unknown cell)"


def find_sheet(sheet_names: list[str], prefix: str) -> str | None:
    """The sheet whose name starts with ``prefix``: of several, the first of the latest fiscal year named.
    Some editions re-post another year's sheet (``Detention EOFY2020`` before ``Detention FY26``), so the
    first match is not necessarily the edition's own (:mod:`.sheets` gives the full rules)."""
    matches = [classify_sheet(name) for name in sheet_names if text_key(name).startswith(prefix)]
    dated = [s for s in matches if s.fiscal_year is not None]
    if dated:
        latest = max(s.fiscal_year for s in dated)
        return next(s.name for s in dated if s.fiscal_year == latest)
    return matches[0].name if matches else None


class Grid:
    """One sheet as two aligned views: cell text (labels) and cell numbers (values).

    Text is normalised (stripped, inner whitespace collapsed) one column at a time, the first time the column
    is read, and match keys are kept once computed: table readers ask for the same labels many times."""

    def __init__(self, sheet: str, texts: list[list[Any]], numbers: list[list[Any]]):
        self.sheet = sheet
        self._texts = texts
        self._numbers = numbers
        self.n_cols = len(texts)
        self.n_rows = len(texts[0]) if texts else 0
        self._norm: list[list[str] | None] = [None] * self.n_cols
        self._keys: dict[tuple[int, int], str] = {}
        self._title_cells: list[tuple[int, int, str]] | None = None

    def _column(self, col: int) -> list[str]:
        column = self._norm[col]
        if column is None:
            column = self._norm[col] = [" ".join(str(raw).split()) if raw else "" for raw in self._texts[col]]
        return column

    def text(self, row: int, col: int) -> str:
        if row >= self.n_rows or col >= self.n_cols:
            return ""
        return (self._norm[col] or self._column(col))[row]

    def key(self, row: int, col: int) -> str:
        key = self._keys.get((row, col))
        if key is None:
            key = self._keys[(row, col)] = text_key(self.text(row, col))
        return key

    def number(self, row: int, col: int) -> float | None:
        if row >= self.n_rows or col >= self.n_cols:
            return None
        value = self._numbers[col][row]
        if value is None or not math.isfinite(value):
            return None
        return float(value)

    def raw_number(self, row: int, col: int) -> float | None:
        """The cell's number as read, NaN and infinities included (None for a blank or a text cell): the
        value checks tell an impossible number from a blank with it."""
        if row >= self.n_rows or col >= self.n_cols:
            return None
        value = self._numbers[col][row]
        return None if value is None else float(value)

    def row_is_blank(self, row: int, first_col: int, end_col: int) -> bool:
        return all(not self.text(row, c) for c in range(first_col, min(end_col, self.n_cols)))

    def title_cells(self) -> list[tuple[int, int, str]]:
        """(row, col, key) of every title-like cell, row by row: titles are long text cells starting with a
        letter, so numbers and short labels are skipped without normalising them."""
        if self._title_cells is None:
            cells = []
            for col, column in enumerate(self._texts):
                for row, raw in enumerate(column):
                    if raw and len(raw) >= 12 and raw.lstrip()[:1].isalpha():
                        cells.append((row, col, self.key(row, col)))
            self._title_cells = sorted(cells)
        return self._title_cells

    def find(self, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """First cell (row by row) whose key matches a title pattern."""
        for row, col, key in self.title_cells():
            if pattern.search(key):
                return row, col
        return None

    def all_text(self):
        for col in self._texts:
            for raw in col:
                if raw:
                    yield raw


class FastexcelWorkbook:
    def __init__(self, path: Path):
        self.path = path
        # fastexcel reads shared strings, styles and workbook.xml on opening: checked first, whoever calls this.
        self._members = check_container(path)
        try:
            self._reader = fastexcel.read_excel(str(path))
            self.sheet_names = list(self._reader.sheet_names)
        except Exception as exc:  # fastexcel raises several unrelated exception types
            raise SourceError(path, f"cannot open workbook: {one_line(exc)}") from exc
        self._grids: dict[str, Grid] = {}

    def grid(self, sheet: str) -> Grid:
        """The sheet's cells, loaded once per workbook (the ATD sheet is read for its tables and its date)."""
        grid = self._grids.get(sheet)
        if grid is None:
            grid = self._grids[sheet] = self._load(sheet)
        return grid

    def _load(self, sheet: str) -> Grid:
        # Loaded twice (the second load reuses calamine's parsed sheet): as text for labels and as float
        # for values, so numbers keep full precision instead of passing through a string rendering.
        check_sheet(self.path, self._members.get(sheet), sheet)
        try:
            texts = self._reader.load_sheet(sheet, header_row=None, dtypes="string", eager=True)
            numbers = self._reader.load_sheet(sheet, header_row=None, dtypes="float", eager=True)
        except Exception as exc:
            raise SourceError(self.path, f"cannot read sheet: {one_line(exc)}", where=sheet.strip()) from exc
        return Grid(sheet,
                     [texts.column(i).to_pylist() for i in range(texts.num_columns)],
                     [numbers.column(i).to_pylist() for i in range(numbers.num_columns)])


def cell_ref(row: int, col: int) -> str:
    """Spreadsheet name of a 0-based cell, e.g. (11, 1) -> 'B12'."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
