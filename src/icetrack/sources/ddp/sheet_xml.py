"""Bounded reading of a raw ICE xlsx straight from its XML: the first rows of each sheet, to find the header.

ICE's raw sheets hold about 1M rows each under a title block (6 rows) above the header (row 7). Only the
first :data:`PEEK_ROWS` rows of a sheet are read (at most :data:`PEEK_MAX_BYTES` of its XML), and shared
strings are looked up lazily, only as far as the titles and the header need, so finding the header costs
milliseconds. The zip container is checked against zip bombs before anything is decompressed.
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from icetrack.domain.edition import SourceError
from icetrack.sources.canonical.crosswalk import Crosswalk

HEADER_SEARCH_ROWS = 15  # the header must be within the first rows of a sheet
PEEK_ROWS = 40
PEEK_MAX_BYTES = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 64 * 1024 * 1024

_ROW_RE = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.DOTALL)
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_ATTR_R = re.compile(rb'\br="([A-Za-z]*)(\d*)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_UNRESOLVED = "\x00"  # prefix of a shared-string cell not looked up yet ("\x00<index>", non-empty)
_V_RE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.DOTALL)
_T_RE = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.DOTALL)
_RPH_RE = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.DOTALL)
_CELL_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(/?)>(?:\s*<(?:\w+:)?v>([^<]*))?')
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

    def __init__(self, zf: zipfile.ZipFile, member: str | None):
        self.values: list[str] = []
        self._it = None
        if member:
            self._it = ElementTree.iterparse(zf.open(member), events=("end",))

    def get(self, i: int) -> str:
        while len(self.values) <= i and self._it is not None:
            try:
                _, el = next(self._it)
            except StopIteration:
                self._it = None
                break
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
    """(open zip, [(sheet name, sheet XML member)], shared-strings member or None); zip bombs refused."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise SourceError(path, "not an xlsx workbook: the file does not start with a zip signature")
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise SourceError(path, f"refused as a possible zip bomb: {len(infos)} members")
        for info in infos:
            if info.file_size > MAX_MEMBER_BYTES or (
                    info.file_size > RATIO_CHECK_MIN_BYTES
                    and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
                raise SourceError(path, f"refused as a possible zip bomb: member {info.filename} expands to "
                                        f"{info.file_size:,} bytes")
        names = {i.filename for i in infos}
        wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
                rels[rel.get("Id")] = rel.get("Target", "")
        sheets = []
        for k, sh in enumerate(wb.iter(f"{_NS_MAIN}sheet")):
            target = rels.get(sh.get(f"{_NS_REL}id") or "", f"worksheets/sheet{k + 1}.xml")
            member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            member = str(PurePosixPath(member))
            if member not in names:
                raise SourceError(path, f"sheet '{sh.get('name')}' points to a missing part {member}")
            sheets.append((sh.get("name") or f"Sheet{k + 1}", member))
        sst = next((n for n in names if n.lower() == "xl/sharedstrings.xml"), None)
        return zf, sheets, sst
    except SourceError:
        raise
    except ZIP_ERRORS as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {exc}") from None


def _head_xml(zf: zipfile.ZipFile, member: str) -> bytes:
    """The start of a sheet's XML: enough for :data:`PEEK_ROWS` rows, at most :data:`PEEK_MAX_BYTES`."""
    buf = b""
    with zf.open(member) as fh:
        while len(buf) < PEEK_MAX_BYTES:
            chunk = fh.read(256 * 1024)
            if not chunk:
                break
            buf += chunk
            closes = buf.count(b"</row>") + buf.count(b":row>") + buf.count(b"/>")
            if b"</sheetData>" in buf or (closes > PEEK_ROWS and len(_ROW_RE.findall(buf)) > PEEK_ROWS):
                break
    return buf


def _row_cells(body: bytes) -> dict[int, tuple[str, str]]:
    """{column index: (cell type, text)} of one row's XML; shared strings left unresolved."""
    cells: dict[int, tuple[str, str]] = {}
    col = -1
    for cm in _CELL_RE.finditer(body):
        cattrs, cbody = cm.group(1), cm.group(2) or b""
        ref = _ATTR_R.search(cattrs)
        col = _col_index(ref.group(1)) if ref and ref.group(1) else col + 1
        t = _ATTR_T.search(cattrs)
        kind = t.group(1).decode() if t else "n"
        if kind == "inlineStr":
            text = "".join(html.unescape(x.decode("utf-8", "replace"))
                           for x in _T_RE.findall(_RPH_RE.sub(b"", cbody)))
            kind = "s"
        else:
            v = _V_RE.search(cbody)
            raw = html.unescape(v.group(1).decode("utf-8", "replace")) if v else ""
            if kind == "s" and raw.strip().isdigit():
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
    for m in _ROW_RE.finditer(buf):
        attrs, body = m.group(1), m.group(2) or b""
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
