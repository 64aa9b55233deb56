"""Bounded access to an xlsx workbook: the zip container checked before fastexcel opens it, and one sheet at
a time as a :class:`Grid` of cell texts and numbers.

Safety limits on the zip container, checked from the central directory: at most 10,000 members, no member
over 200 MB uncompressed, no member over 10 MB with a compression ratio above 200, at most 1 GB uncompressed
in total. Formula cells must carry cached values: a re-saved copy whose formulas have none (openpyxl writes
none) would otherwise read as blanks, so such a file is refused.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from xml.etree import ElementTree

import fastexcel

from icetrack.domain.edition import SourceError
from icetrack.sources.ice_detention.labels import norm_text, text_key

MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)  # corrupt, truncated, odd method

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
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {one_line(exc)}") from exc


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
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        result[sheet.get("name", "")] = member
    return result


def check_cached_values(path: Path, sheet_xml_paths: dict[str, str], sheets: list[str]) -> None:
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
                raise SourceError(path, f"sheet XML {member} is corrupt: {one_line(exc)}",
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


def find_sheet(sheet_names: list[str], prefix: str) -> str | None:
    for name in sheet_names:
        if text_key(name).startswith(prefix):
            return name
    return None


class Grid:
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
        return norm_text(raw) if raw else ""

    def key(self, row: int, col: int) -> str:
        return text_key(self.text(row, col))

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
                        cells.append((row, col, text_key(raw)))
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


class FastexcelWorkbook:
    def __init__(self, path: Path):
        self.path = path
        try:
            self._reader = fastexcel.read_excel(str(path))
            self.sheet_names = list(self._reader.sheet_names)
        except Exception as exc:  # fastexcel raises several unrelated exception types
            raise SourceError(path, f"cannot open workbook: {one_line(exc)}") from exc

    def grid(self, sheet: str) -> Grid:
        # Loaded twice (the second load reuses calamine's parsed sheet): as text for labels and as float
        # for values, so numbers keep full precision instead of passing through a string rendering.
        try:
            texts = self._reader.load_sheet(sheet, header_row=None, dtypes="string", eager=True)
            numbers = self._reader.load_sheet(sheet, header_row=None, dtypes="float", eager=True)
        except Exception as exc:
            raise SourceError(self.path, f"cannot read sheet: {one_line(exc)}", where=sheet.strip()) from exc
        return Grid(sheet,
                     [texts.column(i).to_pylist() for i in range(texts.num_columns)],
                     [numbers.column(i).to_pylist() for i in range(numbers.num_columns)])


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
