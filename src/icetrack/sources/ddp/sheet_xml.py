"""Bounded reading of a raw ICE xlsx straight from its XML: the first rows of each sheet, to find the header.

ICE's raw sheets hold about 1M rows each under a title block (6 rows) above the header (row 7). Only the
first :data:`PEEK_ROWS` rows of a sheet are read (at most :data:`PEEK_MAX_BYTES` of its XML), and shared
strings are looked up lazily, only as far as the titles and the header need, so finding the header costs
milliseconds. The zip container is checked against zip bombs before anything is decompressed, and nothing is
handed to fastexcel (calamine) unchecked: the parts it reads on opening are inflated here first within
:data:`LIMITS` (a zip header may understate a part's size), and each sheet, with its extent, just before it is
loaded (:func:`check_sheet`; calamine allocates rows x columns cells for a sheet). Rows and cells of the peeked
head are found by a linear scan, so no markup makes the peek slower than reading its bytes.
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from icetrack.domain.edition import SourceError
from icetrack.sources.canonical.crosswalk import Crosswalk
from icetrack.sources.files import (
    MAX_TAG_BYTES,
    MAX_XLSX_PART_BYTES,
    MIB,
    OPENED_PARTS,
    XlsxLimits,
    calamine_member,
    check_file,
    check_members,
    inflate_member,
    member_candidates,
    scan_sheet,
    sheet_parts,
    verify_parts,
)

HEADER_SEARCH_ROWS = 15  # the header must be within the first rows of a sheet
PEEK_ROWS = 40
PEEK_MAX_BYTES = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 64 * 1024 * 1024
# What fastexcel may load from a raw ICE xlsx. The widest raw ICE table the Deportation Data Project lists has
# 116 columns (the FY16-FY24 'Apprehension by AOR & Program' exports, deportationdata.org's
# data_column_names.xlsx); ICE fills a sheet to about a million rows before starting the next.
LIMITS = XlsxLimits(
    part_bytes=MAX_XLSX_PART_BYTES,  # workbook.xml, relationships, styles: kilobytes in any export
    # 16x a full sheet of distinct 40-hex identifiers (1,048,576 x ~60 bytes of XML)
    shared_strings_bytes=1024 * MIB,
    sheet_bytes=MAX_MEMBER_BYTES,  # the declared-size limit above: a million rows of 116 columns is ~5 GB of XML
    columns=1_000,  # 8.6x the widest raw ICE table (116 columns); the format allows 16,384
    rows=1_048_576,  # the format's own maximum
    # a full-height sheet of 128 columns; calamine allocates 32 bytes a cell, so ~4.3 GB at the limit - what
    # loading the widest real table at full height costs anyway
    cells=134_217_728,
)
# Shared strings the header search may hold: headers use the first strings written (Excel and openpyxl number
# them in order of first use); a header cell pointing past this is refused rather than read to the end.
MAX_PEEK_STRINGS = 1_000_000

_ROW_START = re.compile(rb"<(?:\w+:)?row(?=[\s/>])")
_ROW_END = re.compile(rb"</(?:\w+:)?row\s*>")
_CELL_START = re.compile(rb"<(?:\w+:)?c(?=[\s/>])")
_CELL_END = re.compile(rb"</(?:\w+:)?c\s*>")
MAX_PEEK_COLUMN = LIMITS.columns  # cells of the peeked rows beyond this column are not read
_ATTR_R = re.compile(rb'\br="([A-Za-z]{0,12})(\d{0,15})"')  # bounded: a longer run is no cell address
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]{1,12})(\d{1,15}):([A-Z]{1,12})(\d{1,15})"')
_UNRESOLVED = "\x00"  # prefix of a shared-string cell not looked up yet ("\x00<index>", non-empty)
# Element text holds no '<' (XML escapes it), so [^<]* ends each match at the next tag: linear, whatever the markup.
_V_RE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_T_RE = re.compile(rb"<(?:\w+:)?t\b[^>]*>([^<]*)</(?:\w+:)?t>")
_RPH_START = re.compile(rb"<(?:\w+:)?rPh\b")
_RPH_END = re.compile(rb"</(?:\w+:)?rPh\s*>")
_CELL_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,12})(\d{1,15})"[^>]*?(/?)>(?:\s*<(?:\w+:)?v>([^<]*))?')
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ElementTree.ParseError)


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n - 1


class SharedStrings:
    """Shared strings read lazily, only as far as the peeked cells need."""

    def __init__(self, zf: zipfile.ZipFile, member: str | None, path: Path | None = None):
        self.path = path or Path(zf.filename or "workbook.xlsx")
        self.values: list[str] = []
        self._it = None
        if member:
            self._it = ElementTree.iterparse(zf.open(member), events=("end",))

    def get(self, i: int) -> str:
        if i >= MAX_PEEK_STRINGS:
            raise SourceError(self.path, f"a header cell points to shared string #{i:,}; headers use the first "
                                         f"{MAX_PEEK_STRINGS:,}")
        while len(self.values) <= i and self._it is not None:
            try:
                _, el = next(self._it)
            except StopIteration:
                self._it = None
                break
            except ZIP_ERRORS as exc:
                raise SourceError(self.path, f"shared strings unreadable, truncated or corrupt: "
                                             f"{' '.join(str(exc).split())[:200]}") from None
            if el.tag.endswith("}si") or el.tag == "si":
                self.values.append(_si_text(el))
                el.clear()
        return self.values[i] if i < len(self.values) else ""


def _si_text(si) -> str:
    """Text of a shared-string item: its <t>, or the <t> of its rich-text runs; phonetic runs left out."""
    parts = []
    for child in si:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if t.tag.rsplit("}", 1)[-1] == "t")
    return "".join(parts)


@dataclass
class SheetPeek:
    name: str
    member: str
    rows: list[tuple[int, dict[int, tuple[str, str]]]] = field(default_factory=list)
    header_row: int | None = None  # Excel row number (1-based)
    header: list[tuple[int, str]] = field(default_factory=list)  # (column index, text)
    titles: list[str] = field(default_factory=list)
    dimension: tuple[int, int] | None = None  # (columns, rows) from the sheet's <dimension ref="A1:W500008"/>


def open_xlsx(path: Path) -> tuple[zipfile.ZipFile, list[tuple[str, str]], str | None]:
    """(open zip, [(sheet name, sheet XML member)], shared-strings member or None); zip bombs refused, and every
    part fastexcel reads on opening (all but the sheets) inflated within :data:`LIMITS` first."""
    check_file(path)
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise SourceError(path, "not an xlsx workbook: the file does not start with a zip signature")
    zf = None
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
        _check_declared(path, infos)
        names = {i.filename for i in infos}
        for member in OPENED_PARTS[:2]:  # read below, before the sheets are known
            if member in names:
                for _ in inflate_member(path, zf.getinfo(member), LIMITS.part_bytes):
                    pass
        sheets = _sheets(path, zf, names)
        verify_parts(path, infos, LIMITS, sheet_parts([m for _, m in sheets], names) | set(OPENED_PARTS[:2]))
        sst = next((n for n in names if n.lower() == "xl/sharedstrings.xml"), None)
        return zf, sheets, sst
    except SourceError:
        if zf is not None:
            zf.close()
        raise
    except ZIP_ERRORS as exc:
        if zf is not None:
            zf.close()
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {exc}") from None


def _check_declared(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """The central directory's own claims: member count, declared sizes and ratios, encryption, duplicates."""
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SourceError(path, f"refused as a possible zip bomb: {len(infos)} members")
    check_members(path, infos)
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES or (
                info.file_size > RATIO_CHECK_MIN_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            raise SourceError(path, f"refused as a possible zip bomb: member {info.filename} expands to "
                                    f"{info.file_size:,} bytes")


def _sheets(path: Path, zf: zipfile.ZipFile, names: set[str]) -> list[tuple[str, str]]:
    """[(sheet name, member)] from workbook.xml and its relationships, members named as calamine names them."""
    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = {}
    if "xl/_rels/workbook.xml.rels" in names:
        for rel in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
            rels[rel.get("Id")] = rel.get("Target", "")
    sheets = []
    for k, sh in enumerate(wb.iter(f"{_NS_MAIN}sheet")):
        member = calamine_member(rels.get(sh.get(f"{_NS_REL}id") or "", f"worksheets/sheet{k + 1}.xml"))
        if member not in names:
            raise SourceError(path, f"sheet '{sh.get('name')}' points to a missing part {member}")
        sheets.append((sh.get("name") or f"Sheet{k + 1}", member))
    return sheets


def check_sheet(path: Path, member: str, sheet: str) -> None:
    """Inflate a sheet (under every name calamine could read it by) within :data:`LIMITS` - actual size and
    extent - before fastexcel loads it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
    except ZIP_ERRORS as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {exc}", where=sheet) from None
    for name in member_candidates(member, infos) or [member]:
        if name not in infos:
            raise SourceError(path, f"sheet XML {member} is missing from the workbook", where=sheet)
        scan_sheet(path, infos[name], LIMITS, sheet)


def _head_xml(zf: zipfile.ZipFile, member: str) -> bytes:
    """The start of a sheet's XML: enough for :data:`PEEK_ROWS` rows, at most :data:`PEEK_MAX_BYTES`."""
    chunks: list[bytes] = []
    size = starts = 0
    prev = b""
    with zf.open(member) as fh:
        while size < PEEK_MAX_BYTES:
            chunk = fh.read(256 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            # row starts counted in the new bytes only (and a start split across the chunk boundary)
            seam = prev[-8:] + chunk
            starts += _row_starts(seam) - _row_starts(prev[-8:])
            prev = chunk
            if b"</sheetData>" in seam or starts > PEEK_ROWS + 1:
                break
    return b"".join(chunks)


def _row_starts(data: bytes) -> int:
    return data.count(b"<row") + data.count(b":row ")


def _elements(buf: bytes, start: re.Pattern[bytes], end: re.Pattern[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(attributes, content) of each element opened by ``start`` in ``buf``, lazily and in one forward pass
    (an element without its end runs to the next one's start)."""
    starts = start.finditer(buf)
    m = next(starts, None)
    while m is not None:
        following = next(starts, None)
        tag_end = buf.find(b">", m.end())
        if tag_end < 0:
            return
        attrs = buf[m.end():tag_end]
        if attrs.endswith(b"/"):
            yield attrs[:-1], b""
        else:
            limit = following.start() if following is not None else len(buf)
            close = end.search(buf, tag_end + 1, limit)
            yield attrs, buf[tag_end + 1:close.start() if close else limit]
        m = following


def _strip_phonetic(body: bytes) -> bytes:
    """A cell's XML without its phonetic runs (<rPh>...</rPh>), in one forward pass."""
    parts, pos = [], 0
    while (m := _RPH_START.search(body, pos)) is not None:
        parts.append(body[pos:m.start()])
        end = _RPH_END.search(body, m.end())
        if end is None:
            return b"".join(parts)
        pos = end.end()
    parts.append(body[pos:])
    return b"".join(parts)


def _row_cells(body: bytes) -> dict[int, tuple[str, str]]:
    """{column index: (cell type, text)} of one row's XML; shared strings left unresolved."""
    cells: dict[int, tuple[str, str]] = {}
    col = -1
    for n, (cattrs, cbody) in enumerate(_elements(body, _CELL_START, _CELL_END)):
        if n >= MAX_PEEK_COLUMN:
            break  # more cells than a sheet may have columns: LIMITS refuses the sheet before it is loaded
        ref = _ATTR_R.search(cattrs)
        col = _col_index(ref.group(1)) if ref and ref.group(1) else col + 1
        if col > MAX_PEEK_COLUMN:
            continue  # past any header: LIMITS refuses such a sheet before it is loaded
        t = _ATTR_T.search(cattrs)
        kind = t.group(1).decode() if t else "n"
        if kind == "inlineStr":
            text = "".join(html.unescape(x.decode("utf-8", "replace"))
                           for x in _T_RE.findall(_strip_phonetic(cbody)))
            kind = "s"
        else:
            v = _V_RE.search(cbody)
            raw = html.unescape(v.group(1).decode("utf-8", "replace")) if v else ""
            if kind == "s" and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 12:
                # looked up only for the rows the header search reads (titles and header)
                text = _UNRESOLVED + raw.strip()
            else:
                text = raw
        cells[col] = (kind, text)
    return cells


def peek_sheet(zf: zipfile.ZipFile, name: str, member: str) -> SheetPeek:
    """The first :data:`PEEK_ROWS` rows of one sheet, and its declared dimension."""
    peek = SheetPeek(name, member)
    buf = _head_xml(zf, member)
    dim = _DIMENSION.search(buf[:4096])
    if dim:
        peek.dimension = (_col_index(dim.group(3)) - _col_index(dim.group(1)) + 1,
                          int(dim.group(4)) - int(dim.group(2)) + 1)
    rownum = 0
    for attrs, body in _elements(buf, _ROW_START, _ROW_END):
        if len(peek.rows) >= PEEK_ROWS:
            break
        r = _ATTR_R.search(attrs)
        rownum = int(r.group(2)) if r and r.group(2) else rownum + 1
        if rownum > PEEK_ROWS:
            break
        peek.rows.append((rownum, _row_cells(body)))
    return peek


def find_header(path: Path, peek: SheetPeek, crosswalk: Crosswalk, sst: SharedStrings) -> bool:
    """Locate the header row by content; False for a sheet without tabular content (notes tab)."""
    for rownum, cells in peek.rows:
        if rownum > HEADER_SEARCH_ROWS:
            break
        for col, (kind, v) in list(cells.items()):
            if v.startswith(_UNRESOLVED):
                cells[col] = (kind, sst.get(int(v[1:])))
        texts = {c: v.strip() for c, (k, v) in cells.items() if k in ("s", "str") and v.strip()}
        if len(texts) < 2:
            continue
        known = sum(1 for v in texts.values() if crosswalk.is_known(v))
        if known >= 2 and known * 2 >= len(texts):
            peek.header_row = rownum
            peek.header = sorted(texts.items())
            peek.titles = [" ".join(v for _, (_, v) in sorted(c.items()) if v.strip())
                           for r, c in peek.rows if r < rownum]
            peek.titles = [t for t in peek.titles if t]
            return True
    wide = any(sum(1 for _, v in cells.values() if v.strip()) >= 3 for _, cells in peek.rows)
    if wide or (peek.dimension is not None and peek.dimension[0] >= 3 and peek.dimension[1] > PEEK_ROWS):
        raise SourceError(path, f"no recognisable header row in the first {HEADER_SEARCH_ROWS} rows (expected "
                                "ICE column names such as 'Apprehension Date' or 'Unique Identifier' below a "
                                "title block of about 6 rows)", where=peek.name)
    return False


def first_numeric_row(path: Path, peek: SheetPeek, column: int) -> int | None:
    """Excel row of the first numeric cell in ``column`` below the header (error path only: a scan of the
    sheet XML, stopped at the first hit)."""
    want = None
    try:
        with zipfile.ZipFile(path) as zf, zf.open(peek.member) as fh:
            tail = b""
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    return None
                buf = tail + chunk
                end = max(buf.rfind(b"c>"), -2) + 2  # after the last complete cell ('</c>', '</x:c>')
                body, tail = buf[:end], buf[end:]
                if len(tail) > MAX_TAG_BYTES:  # no cell ends in a megabyte: not cells this scan can read
                    return None
                for m in _CELL_OPEN.finditer(body):
                    if _col_index(m.group(1)) != column or int(m.group(2)) <= peek.header_row:
                        continue
                    attrs = m.group(0)
                    t = _ATTR_T.search(attrs.split(b">", 1)[0])
                    kind = t.group(1) if t else b"n"
                    if kind in (b"n", b"b", b"d", b"e") and m.group(3) != b"/" and (m.group(4) or b"").strip():
                        want = int(m.group(2))
                        return want
    except ZIP_ERRORS:
        return want
