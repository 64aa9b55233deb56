"""A sheet's first columns, read from its XML here rather than by fastexcel: for a sheet that declares far more
columns than it fills.

ICE's "Monthly Segregation" sheet declares its extent as ``A1:XFC923`` since the June 2025 editions: every row
carries ~8,000 empty, styled cells out to column XFC (16,383), 11 MB of XML for ~1,700 cells with values in
columns A, B and F. The general loader refuses such a sheet before calamine sees it (:data:`.workbook.LIMITS`:
1,000 columns). Allowed through, fastexcel takes 150-450 ms for the two loads the general loader makes (text
and numbers), calamine walking every empty cell, and its allocation would rest on calamine's handling of the
declared extent. This reader inflates the sheet in chunks (:func:`~icetrack.sources.files.inflate_member`,
within the sheet-size limit) and jumps from one ``</c>`` to the next: only cells with content are looked at,
empty ``<c .../>`` cells are skipped at the speed of a byte search (36-38 ms for the 11 MB sheets, half of it
inflating; 3-9 ms for the earlier, narrow ones, where fastexcel takes 1-2 ms).

Numbers keep full precision; their text is Python's shortest rendering ('11.406797971999998' where fastexcel
shows '11.406797972'): the text of a number cell only tells a blank from a filled cell here.

Bounds, each refused in one line naming the file, sheet and cell: the sheet's XML size
(:data:`.workbook.LIMITS`), the shared strings' size (same), :data:`MAX_COLUMNS` (a cell with a value or a
formula further right; empty cells anywhere are ignored), :data:`MAX_ROWS`, :data:`MAX_VALUE_CELLS`, and
:data:`MAX_CELL_BYTES` for one cell's XML. A formula cell without a cached value is refused, as
:func:`.workbook.check_cached_values` refuses it for the sheets fastexcel reads. Shared strings, inline strings
and cached values are resolved as calamine resolves them (rich-text runs joined, phonetic runs left out).
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from icetrack.domain.edition import SourceError
from icetrack.sources.files import column_letters, inflate_member
from icetrack.sources.ice_detention.workbook import LIMITS, Grid, check_container, one_line

# The columns kept: ICE's segregation sheets hold their figures in columns A-B (and a stray mark in F); before
# June 2025 they declared at most 24 columns (A1:X794). 64 is over twice that.
MAX_COLUMNS = 64
# Rows: the longest real segregation sheet ends at row 1,041 (the 09/11/2025 edition); 20,000 is ~20 times that.
MAX_ROWS = 20_000
# Cells holding a value or a formula, anywhere on the sheet: ~1,700 in the real sheets; 100,000 is ~60 times.
MAX_VALUE_CELLS = 100_000
# One cell's XML: Excel caps a cell's text at 32,767 characters (at most 128 KiB of UTF-8 and markup).
MAX_CELL_BYTES = 1024 * 1024

_REF = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{1,3})([0-9]{1,7})["']""")
_TYPE = re.compile(rb"""\st\s*=\s*["']([A-Za-z]+)["']""")
# A cell as Excel writes nearly all of them: reference, style, type, one cached value, nothing else.
_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="[0-9]+")?(?: t="(s|n|str|e|b)")?><v>([^<]*)</v></c>')
_VALUE = re.compile(rb"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_TEXT_RUN = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
# The worksheet namespace (transitional and strict OOXML), and its declaration as the default namespace.
_MAIN_NAMESPACES = (b"/spreadsheetml/2006/main", b"/ooxml/spreadsheetml/main")
_DEFAULT_NAMESPACE = re.compile(rb"""\sxmlns\s*=\s*["'][a-z]+://[\w.-]+$""")
_CELL_START_ENDS = b" \t\r\n>/"  # what may follow '<c' in a cell's start tag ('<col', '<color' are other elements)


def load_first_columns(path: Path, sheet: str) -> Grid:
    """The sheet's cells in its first :data:`MAX_COLUMNS` columns as a :class:`.workbook.Grid`."""
    where = sheet.strip()
    member = check_container(path).get(sheet)  # the container and every non-sheet part checked (cached)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file: {one_line(exc)}", where=where) from exc
    info = _member(infos, member)
    if info is None:
        raise SourceError(path, f"sheet XML {member or '(none in workbook.xml)'} is missing from the workbook",
                          where=where)
    reader = _CellReader(path, where)
    for chunk in inflate_member(path, info, LIMITS.sheet_bytes, where=where):
        reader.feed(chunk)
    strings = _shared_strings(path, infos, where) if reader.shared else []
    return reader.grid(sheet, strings)


def _member(infos: list[zipfile.ZipInfo], member: str | None) -> zipfile.ZipInfo | None:
    """The sheet's part, named as in workbook.xml's relationships (ignoring case, as calamine looks it up)."""
    if not member:
        return None
    by_name = {i.filename: i for i in infos}
    return by_name.get(member) or next((i for i in infos if i.filename.lower() == member.lower()), None)


class _CellReader:
    """Cells with content, from sheet XML fed in chunks: (row, column) -> (type, raw content)."""

    def __init__(self, path: Path, where: str):
        self.path, self.where = path, where
        self.cells: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self.count = 0
        self.shared = False  # any shared-string cell kept
        self._tail = b""

    def _refuse(self, problem: str) -> None:
        raise SourceError(self.path, problem, where=self.where)

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk if self._tail else chunk
        self._check_namespaces(buf)
        pos = 0
        while (end := buf.find(b"</c>", pos)) >= 0:
            start = self._cell_start(buf, pos, end)
            self._cell(buf, start, end)
            pos = end + 4
        rest = buf[pos:]
        # Keep only what may begin a cell still open: from its start tag (the last one in the rest), or the last
        # few bytes when the rest holds none (a start tag split between chunks).
        last = self._last_start(rest, 0, len(rest))
        self._tail = rest[last:] if last >= 0 else rest[-64:]
        if len(self._tail) > MAX_CELL_BYTES:
            self._refuse(f"a cell's XML is longer than {MAX_CELL_BYTES:,} bytes; not a worksheet cell")

    def _check_namespaces(self, buf: bytes) -> None:
        """Refuse a sheet that binds the worksheet namespace to a prefix: its cells ('<x:c>') would be read by
        calamine but not found here. A search for the namespace's name is fast; one for '<x:c' would not be."""
        for needle in _MAIN_NAMESPACES:
            at = buf.find(needle)
            while at >= 0:
                if not _DEFAULT_NAMESPACE.search(buf, max(0, at - 80), at):
                    self._refuse("sheet XML binds the worksheet namespace to a prefix (cells like '<x:c>'), "
                                 "which this reader does not read")
                at = buf.find(needle, at + 1)

    @staticmethod
    def _last_start(buf: bytes, lo: int, hi: int) -> int:
        """Index of the last cell start tag ('<c' then a space, '>' or '/') in buf[lo:hi], or -1."""
        while (at := buf.rfind(b"<c", lo, hi)) >= 0:
            if buf[at + 2:at + 3] and buf[at + 2:at + 3] in _CELL_START_ENDS:
                return at
            hi = at
        return -1

    def _cell_start(self, buf: bytes, pos: int, end: int) -> int:
        start = self._last_start(buf, pos, end)
        if start < 0:
            self._refuse("a cell end '</c>' without its start tag; not worksheet XML")
        return start

    def _cell(self, buf: bytes, start: int, end: int) -> None:
        plain = _PLAIN_CELL.fullmatch(buf, start, end + 4)  # '<c r="B5" s="19" t="s"><v>12</v></c>': most cells
        if plain is not None:
            letters, row, kind, raw = plain.groups()
            self._keep(letters, int(row), kind or b"n", raw)
            return
        tag_end = buf.find(b">", start, end)
        attrs, content = buf[start + 2:tag_end], buf[tag_end + 1:end]
        has_formula = b"<f" in content
        if not (has_formula or b"<v" in content or b"<is" in content):
            return  # '<c r="B2" s="3"></c>': an empty cell written long-hand
        ref = _REF.search(attrs)
        if ref is None:
            self._refuse(f"a cell without a reference holds '{content[:40].decode('utf-8', 'replace')}'")
        kind = _TYPE.search(attrs)
        kind = kind.group(1) if kind else b"n"
        value = _VALUE.search(content)
        if has_formula and kind != b"inlineStr" and (value is None or not value.group(1).strip()):
            shown = f"{ref.group(1).decode().upper()}{int(ref.group(2))}"
            self._refuse(f"formula cell {shown} has no cached value (re-saved without recalculation?); its number "
                         "cannot be read")
        self._keep(ref.group(1), int(ref.group(2)), kind,
                   content if kind == b"inlineStr" else (value.group(1) if value else b""))

    def _keep(self, letters: bytes, row: int, kind: bytes, raw: bytes) -> None:
        """Keep one cell with content, within the bounds (an empty value, '<v></v>', is a blank)."""
        col = _column_number(letters)
        self.count += 1
        if col > MAX_COLUMNS or not 1 <= row <= MAX_ROWS or self.count > MAX_VALUE_CELLS:
            self._refuse_cell(letters, row, col)
        if kind != b"inlineStr" and not raw.strip():
            return
        self.shared = self.shared or kind == b"s"
        self.cells[(row - 1, col - 1)] = (kind, raw)

    def _refuse_cell(self, letters: bytes, row: int, col: int) -> None:
        shown = f"{letters.decode().upper()}{row}"
        if col > MAX_COLUMNS:
            self._refuse(f"cell {shown} holds a value beyond the first {MAX_COLUMNS} columns (through "
                         f"{column_letters(MAX_COLUMNS)}) that this sheet's reader keeps; layout not recognised")
        if not 1 <= row <= MAX_ROWS:
            self._refuse(f"cell {shown} is beyond row {MAX_ROWS:,}, the most this sheet's reader keeps")
        self._refuse(f"more than {MAX_VALUE_CELLS:,} cells with values; refused at cell {shown}")

    def grid(self, sheet: str, strings: list[str]) -> Grid:
        """The kept cells as a Grid: as wide as the furthest column with a value, as long as the furthest row."""
        n_rows = max((r for r, _ in self.cells), default=-1) + 1
        n_cols = max((c for _, c in self.cells), default=-1) + 1
        texts: list[list[str | None]] = [[None] * n_rows for _ in range(n_cols)]
        numbers: list[list[float | None]] = [[None] * n_rows for _ in range(n_cols)]
        for (row, col), (kind, raw) in self.cells.items():
            text, number = self._resolve(kind, raw, strings, f"{column_letters(col + 1)}{row + 1}")
            texts[col][row], numbers[col][row] = text, number
        return Grid(sheet, texts, numbers)

    def _resolve(self, kind: bytes, raw: bytes, strings: list[str], ref: str) -> tuple[str | None, float | None]:
        """(text, number) of one cell, as fastexcel gives them (a number's text is its shortest rendering)."""
        if kind == b"s":
            index = raw.strip()
            if not index.isdigit() or int(index) >= len(strings):
                self._refuse(f"cell {ref} names shared string {index[:20].decode('ascii', 'replace')}, which the "
                             f"workbook's {len(strings):,} shared strings do not hold")
            return strings[int(index)], None
        if kind == b"inlineStr":
            runs = _TEXT_RUN.findall(_PHONETIC.sub(b"", raw))
            return _unescape(b"".join(runs)), None
        if kind in (b"str", b"e", b"d"):
            return _unescape(raw), None
        if kind == b"b":
            return ("true" if raw.strip() == b"1" else "false"), None
        try:
            number = float(raw)
        except ValueError:
            self._refuse(f"cell {ref} holds '{raw[:40].decode('utf-8', 'replace')}' as a number")
        return _number_text(number), number


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _unescape(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _column_number(letters: bytes) -> int:
    n = _COLUMNS.get(letters)
    if n is None:
        n = 0
        for ch in letters.upper():
            n = n * 26 + (ch - 64)
    return n


_COLUMNS = {column_letters(n).encode(): n for n in range(1, MAX_COLUMNS + 1)}  # the columns kept, looked up


def _shared_strings(path: Path, infos: list[zipfile.ZipInfo], where: str) -> list[str]:
    """The workbook's shared strings (xl/sharedStrings.xml, looked up ignoring case as calamine does), inflated
    within the shared-strings limit: rich-text runs joined, phonetic runs left out."""
    info = next((i for i in infos if i.filename.lower() == "xl/sharedstrings.xml"), None)
    if info is None:
        return []
    xml = b"".join(inflate_member(path, info, LIMITS.shared_strings_bytes, where=where))
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise SourceError(path, "shared strings declare a DTD or entities; refused", where=where)
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise SourceError(path, f"shared strings are not readable XML: {one_line(exc)}", where=where) from exc
    strings = []
    for item in root:
        parts = []
        for child in item:
            name = child.tag.rsplit("}", 1)[-1]
            if name == "t":
                parts.append(child.text or "")
            elif name == "r":
                parts.extend(t.text or "" for t in child if t.tag.rsplit("}", 1)[-1] == "t")
        strings.append("".join(parts))
    return strings
