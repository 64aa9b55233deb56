"""What a reader may open, and how much of it it may read.

Every reader entry point calls :func:`check_file` before it opens a path: only a regular file (after symlinks
are resolved) is read, so a named pipe cannot hang a command and a link to ``/dev/zero`` cannot fill memory;
a reader with a size limit passes it here. Text readers take their lines through :func:`bounded_lines`
(a line and the whole decompressed stream have maximum lengths). The xlsx readers never let fastexcel
(calamine) see a zip part they have not inflated themselves: :func:`inflate_member` streams one part with a
limit on its *actual* size (a zip header may understate it), and :class:`SheetExtent` finds a sheet's extent
from its XML - the ``<dimension ref>`` and the largest cell reference - because calamine allocates
rows x columns cells for a sheet before it returns anything.

Every refusal is one :class:`~icetrack.domain.edition.SourceError` line naming the file (and part or sheet).
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from icetrack.domain.edition import SourceError

MIB = 1024 * 1024
# A line of a text source: the longest real lines are 4,185 bytes (UWCHR's joined DDP file, 146 columns) and
# 233 bytes (ERO-LESA exports); 1 MiB is 250x the former and still a trivial allocation.
MAX_LINE_BYTES = 1 * MIB
# A decompressed text stream (ERO-LESA .csv.gz, DDP csv): the largest real ERO-LESA export inflates to 3.7 MB
# (36,819 lines); 4 GiB holds ~18 million lines of the widest real export, beyond any national ICE table.
MAX_DECOMPRESSED_BYTES = 4 * 1024 * MIB
# Chunk sizes: what one read allocates. 1 MiB keeps the per-chunk overhead of Python calls negligible.
CHUNK_BYTES = 1 * MIB
# An xlsx part other than a sheet or the shared strings (workbook.xml, relationships, styles): the largest in
# the 30 real ICE workbooks is styles.xml at 136 KB; 16 MiB is over 100 times that.
MAX_XLSX_PART_BYTES = 16 * MIB
# The fewest bytes of sheet XML that hold a cell calamine keeps (it drops empty ones): '<c><v>1</v></c>' is 15, so a
# sheet needs its cells counted only past this many bytes a cell of its limit.
MIN_CELL_BYTES = 12
# Sheet XML: the text between two '>' (a tag, or a cell's text). Excel caps a cell at 32,767 characters
# (at most 128 KiB of UTF-8); a run of 1 MiB without '>' is not a worksheet.
MAX_TAG_BYTES = 1 * MIB


def _kind(mode: int) -> tuple[str, str] | None:
    """(what a non-regular file is, why reading it is refused); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory", ""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)", ": reading it could wait forever"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device", ": reading it may never end"
    if stat.S_ISSOCK(mode):
        return "a socket", ""
    return "not a regular file", ""


def check_file(path: str | Path, *, max_bytes: int | None = None, what: str = "file") -> int:
    """Refuse anything but a regular file (symlinks resolved) and, with ``max_bytes``, a file over it; return
    the file's size. Called before a reader opens ``path``: opening a FIFO blocks until a writer comes."""
    path = Path(path)
    try:
        st = os.stat(path)  # follows symlinks: the target is what would be read
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from None
    kind = _kind(st.st_mode)
    if kind is not None:
        target = os.path.realpath(path)
        via = f" (resolves to {target})" if target != os.path.abspath(path) else ""
        raise SourceError(path, f"is {kind[0]}{via}, not a regular file{kind[1]}; refused")
    if max_bytes is not None and st.st_size > max_bytes:
        raise SourceError(path, f"file is {st.st_size:,} bytes; a {what} must be at most {max_bytes:,} bytes")
    return st.st_size


def bounded_lines(fh: BinaryIO, path: Path, *, where: str | None = None, max_line: int = MAX_LINE_BYTES,
                  max_total: int = MAX_DECOMPRESSED_BYTES, stream: str = "file") -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line) of a binary stream; a line longer than ``max_line`` bytes or a stream
    longer than ``max_total`` bytes is refused (one line naming the file and line) before it is held whole."""
    lineno = total = 0
    while True:
        raw = fh.readline(max_line + 1)
        if not raw:
            return
        lineno += 1
        total += len(raw)
        if len(raw) > max_line:
            raise SourceError(path, f"line {lineno:,} is longer than {max_line:,} bytes (no line break); not a "
                                    "delimited text file", where=where, row=lineno)
        if total > max_total:
            raise SourceError(path, f"the {stream} is longer than {max_total:,} bytes at line {lineno:,}; refused "
                                    "as a possible decompression bomb", where=where, row=lineno)
        yield lineno, raw


# --- zip parts -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class XlsxLimits:
    """What one xlsx reader lets fastexcel load (each reader states its values and why)."""

    part_bytes: int  # workbook.xml, relationships, styles, theme... (every part that is not a worksheet)
    shared_strings_bytes: int  # xl/sharedStrings.xml: calamine holds every string in memory
    sheet_bytes: int  # one worksheet's XML
    columns: int  # a sheet's last column
    rows: int  # a sheet's last row
    cells: int  # rows x columns of a sheet (calamine allocates that grid) and the number of cell elements


def check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse encrypted parts and parts stored twice under one name, case aside (calamine looks parts up
    ignoring case, so this reader and calamine could otherwise read different bytes)."""
    seen: set[str] = set()
    for info in infos:
        if info.flag_bits & 0x1:
            raise SourceError(path, f"part {info.filename} is encrypted (password-protected); it cannot be read")
        if info.filename.lower() in seen:
            raise SourceError(path, f"the zip holds two parts named {info.filename}; refused as ambiguous")
        seen.add(info.filename.lower())


def _data_offset(fh: BinaryIO, path: Path, info: zipfile.ZipInfo) -> int:
    """Where a part's compressed bytes start (after its local header, whose extra field may differ from the
    central directory's)."""
    try:
        fh.seek(info.header_offset)
        header = fh.read(30)
    except (OSError, ValueError, OverflowError):  # an offset the central directory made up
        header = b""
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise SourceError(path, f"part {info.filename}: local header missing; truncated or corrupt zip")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def inflate_member(path: Path, info: zipfile.ZipInfo, limit: int, *, where: str | None = None,
                   fh: BinaryIO | None = None) -> Iterator[bytes]:
    """The part's bytes, inflated here in chunks: refused as soon as they pass ``limit`` or the size its zip
    header declares (calamine would inflate all of them), or when the part is encrypted, truncated, corrupt
    or compressed by a method xlsx does not use."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise SourceError(path, f"part {name} is encrypted (password-protected); it cannot be read", where=where)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SourceError(path, f"part {name} uses compression method {info.compress_type}; xlsx parts are "
                                "stored or deflated", where=where)
    if info.file_size > limit:
        raise SourceError(path, f"part {name} declares {info.file_size:,} bytes uncompressed (limit {limit:,}); "
                                "refused as a possible zip bomb", where=where)
    with open(path, "rb") if fh is None else nullcontext(fh) as fh:
        fh.seek(_data_offset(fh, path, info))
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        left, total, data = info.compress_size, 0, b""
        while True:
            if not data and left > 0:
                data = fh.read(min(CHUNK_BYTES, left))
                if not data:
                    raise SourceError(path, f"part {name} is truncated", where=where)
                left -= len(data)
            if inflater is None:
                out, data = data, b""
            else:
                try:  # at most a chunk of output per call: a bomb is stopped a chunk past its limit
                    out = inflater.decompress(data, CHUNK_BYTES)
                except zlib.error as exc:
                    raise SourceError(path, f"part {name} is corrupt: {exc}", where=where) from None
                data = inflater.unconsumed_tail
            total += len(out)
            if total > info.file_size:
                raise SourceError(path, f"part {name} inflates to more than the {info.file_size:,} bytes its zip "
                                        "header declares; refused as a possible zip bomb", where=where)
            if out:
                yield out
            if (inflater is not None and inflater.eof) or (not out and not data and left == 0):
                break
        if (inflater is not None and not inflater.eof) or total != info.file_size:
            raise SourceError(path, f"part {name} inflates to {total:,} bytes, not the {info.file_size:,} its zip "
                                    "header declares; truncated or corrupt", where=where)


def verify_parts(path: Path, infos: list[zipfile.ZipInfo], limits: XlsxLimits, skip: set[str]) -> None:
    """Inflate every part but the worksheets (and any in ``skip``, already checked): what calamine reads when it
    opens a workbook (workbook.xml, relationships, shared strings, styles...); refuse any beyond its limit."""
    with open(path, "rb") as fh:
        for info in infos:
            if info.filename in skip or info.is_dir():
                continue
            shared = info.filename.lower().rsplit("/", 1)[-1] == "sharedstrings.xml"
            for _ in inflate_member(path, info, limits.shared_strings_bytes if shared else limits.part_bytes, fh=fh):
                pass


# Parts calamine reads by name when it opens a workbook (looked up ignoring case): never skipped as "a worksheet
# not loaded yet", whatever a relationship says.
OPENED_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml", "xl/styles.xml")


def calamine_member(target: str) -> str:
    """The part calamine reads for a sheet relationship's target: '/xl/...' and 'xl/...' name the part itself,
    anything else is under xl/."""
    return target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else f"xl/{target}"


def sheet_parts(members: Iterable[str], names: Iterable[str]) -> set[str]:
    """Every part a sheet may be read from: calamine reads one only when its sheet is loaded (checked then), so
    opening a workbook need not inflate them."""
    names = list(names)
    out: set[str] = set()
    for member in members:
        out.update(m for m in member_candidates(member, names) if m.lower() not in OPENED_PARTS)
    return out


def xlsx_sheet_names(path: Path) -> list[str]:
    """The sheet names of an xlsx, from its workbook.xml (inflated here within MAX_XLSX_PART_BYTES), without
    handing the file to fastexcel, which would read its shared strings and styles first."""
    check_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            check_members(path, zf.infolist())
            info = next((i for i in zf.infolist() if i.filename.lower() == "xl/workbook.xml"), None)
            if info is None:
                raise SourceError(path, "not an xlsx workbook: the zip has no xl/workbook.xml")
            xml = b"".join(inflate_member(path, info, MAX_XLSX_PART_BYTES))
        root = ElementTree.fromstring(xml)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ElementTree.ParseError) as exc:
        raise SourceError(path, f"not a readable xlsx workbook: {' '.join(str(exc).split())[:200]}") from None
    return [el.get("name", "") for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "sheet"]


def member_candidates(target: str, names: Iterable[str]) -> list[str]:
    """Every zip part a relationship target may name (relative to xl/, absolute, or already prefixed): a sheet
    is checked under each reading, so no reader of the workbook can load a part that was not checked."""
    stripped = target.replace("\\", "/").lstrip("/")
    options = {stripped, "xl/" + stripped, "xl/" + target, os.path.normpath("xl/" + stripped).replace("\\", "/"),
               os.path.normpath(stripped).replace("\\", "/"), stripped.removeprefix("xl/")}
    lower = {o.lower() for o in options}
    return sorted(n for n in names if n in options or n.lower() in lower)


# --- sheet extent ------------------------------------------------------------------------------------------

_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = b"0123456789"
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
# A cell address; longer letter or digit runs than these are no address any spreadsheet can hold (and would
# overflow calamine's 32-bit arithmetic), so they are refused as malformed.
_REF = re.compile(rb"([A-Za-z]{1,12})(\d{1,15})")
_PLAIN_COL = re.compile(rb'<c r="([A-Za-z]+)\d')
_TAG = re.compile(rb"<(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_ATTR_R = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_PREFIXED_CELL = re.compile(rb"<[\w.-]+:c[\s/>]")


def column_letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def _at_most(value: bytes, alphabet: bytes) -> bytes:
    """Regex for the column letters (or row digits, without a leading zero) that are at most ``value``:
    shorter ones, or ones of its length that are not greater, character by character."""
    letters = alphabet is _LETTERS
    cls, lead = (b"[A-Z]", b"[A-Z]") if letters else (rb"\d", b"[1-9]")
    alts = [lead + (cls + b"{0,%d}" % (len(value) - 2) if len(value) > 2 else b"")] if len(value) > 1 else []
    for i, ch in enumerate(value):
        below = alphabet[(0 if letters or i else 1):alphabet.index(ch)]
        rest = len(value) - i - 1
        if below:
            alts.append(re.escape(value[:i]) + b"[" + below + b"]" + (cls + b"{%d}" % rest if rest else b""))
    alts.append(re.escape(value))
    return b"(?:" + b"|".join(alts) + b")"


class SheetExtent:
    """The extent of a sheet, from its XML fed in chunks: the ``<dimension ref>`` and the furthest cell.

    Cells are placed as calamine places them: by their ``r`` attribute, else next to the previous cell of the
    row (and a row without ``r`` follows the previous row). Chunks whose every cell starts ``<c r="A1"`` (what
    Excel and every real ICE file write) are checked by one regular-expression search for a cell beyond the
    furthest one seen so far; other chunks are walked tag by tag. The first cell, dimension or count beyond
    ``limits`` raises :class:`SourceError` naming it.
    """

    def __init__(self, path: Path, where: str, limits: XlsxLimits):
        self.path, self.where, self.limits = path, where, limits
        self.max_row = self.max_col = 0
        self.cells = self.bytes = 0
        self._row = self._col = 0  # calamine's running position (1-based), for cells without 'r'
        self._tail = b""
        self._before_data = True  # <dimension> precedes <sheetData>
        self._fast: re.Pattern[bytes] | None = None
        self._fast_for: tuple[int, int] = (-1, -1)

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk if self._tail else chunk
        cut = buf.rfind(b">") + 1  # whole tags only; the rest waits for the next chunk
        self._tail = buf[cut:]
        if len(self._tail) > MAX_TAG_BYTES:
            raise SourceError(self.path, f"{MAX_TAG_BYTES:,} bytes without a tag end; not worksheet XML",
                              where=self.where)
        if not cut:
            return
        body = buf if cut == len(buf) else buf[:cut]
        if self._before_data:
            self._dimension(body)
            self._before_data = b"sheetData" not in body
        prefixed = b":c" in body and _PREFIXED_CELL.search(body) is not None
        self.bytes += len(body)
        if self.bytes > MIN_CELL_BYTES * self.limits.cells:  # only so large a sheet can hold too many cells
            if not self.cells:  # the cells of the bytes before, at most
                self.cells = (self.bytes - len(body)) // MIN_CELL_BYTES
            # an upper bound (<col> and <cfRule> count too), checked before the cells are placed
            self.cells += body.count(b"<c") + (len(_PREFIXED_CELL.findall(body)) if prefixed else 0)
            if self.cells > self.limits.cells:
                self._refuse(f"may hold more than {self.limits.cells:,} cells (calamine keeps every one)")
        if prefixed:
            self._walk(body)
        else:
            self._scan(body)

    def close(self) -> None:
        self.feed(b">")  # whatever is left in the tail (a truncated tag is calamine's problem, not a size)

    def _refuse(self, problem: str) -> None:
        raise SourceError(self.path, f"sheet {problem}; refused before loading (limits: {self.limits.columns:,} "
                                     f"columns, {self.limits.rows:,} rows, {self.limits.cells:,} cells)",
                          where=self.where)

    def _dimension(self, body: bytes) -> None:
        m = _DIMENSION.search(body)
        if not m:
            return
        refs = [_REF.fullmatch(part.strip()) for part in m.group(1).split(b":")]
        if not all(refs):
            return  # not a range calamine can read either: it ignores or rejects it
        cols = max(_column_number(r.group(1)) for r in refs)
        rows = max(int(r.group(2)) for r in refs)
        if cols > self.limits.columns or rows > self.limits.rows or cols * rows > self.limits.cells:
            self._refuse(f"declares its extent as {m.group(1).decode('ascii', 'replace')} ({rows:,} rows x "
                         f"{cols:,} columns = {rows * cols:,} cells)")

    def _place(self, row: int, col: int, ref: str) -> None:
        self._row, self._col = max(self._row, row), col
        if col > self.max_col or row > self.max_row:
            self.max_col, self.max_row = max(self.max_col, col), max(self.max_row, row)
            if (self.max_col > self.limits.columns or self.max_row > self.limits.rows
                    or self.max_col * self.max_row > self.limits.cells):
                self._refuse(f"reaches cell {ref} ({self.max_row:,} rows x {self.max_col:,} columns = "
                             f"{self.max_row * self.max_col:,} cells)")

    def _cell_ref(self, value: bytes) -> None:
        m = _REF.fullmatch(value.strip())
        if m is None or int(m.group(2)) == 0:
            shown = value[:40].decode("ascii", "replace")
            raise SourceError(self.path, f"cell reference '{shown}' is not a cell address", where=self.where)
        self._place(int(m.group(2)), _column_number(m.group(1)), m.group(0).decode("ascii").upper())

    def _scan(self, body: bytes) -> None:
        """A chunk whose cells all start '<c r="': one search for an irregular cell or one beyond the furthest
        seen. When the furthest grows (a sheet's first rows, or its rows' ends) the chunk's furthest column and
        row are taken from all its cell references at once, so the search pattern is rebuilt once a chunk."""
        last = body.rfind(b'<c r="')  # rows come in order, so the last cell is usually the furthest row
        if last >= 0:
            m = _REF.match(body, last + 6)
            if m and body[m.end():m.end() + 1] == b'"':
                self._cell_ref(m.group(0))
        pos, exact = 0, False
        while True:
            found = self._pattern().search(body, pos)
            if found is None:
                break
            start = found.start()
            end = body.find(b'"', start + 6) if body.startswith(b'<c r="', start) else -1
            if end < 0 or not _REF.fullmatch(body, start + 6, end):
                self._walk(body)  # a cell without a leading r="..." (or a malformed one): walk the chunk
                return
            if exact:  # past the chunk's furthest column: a row out of order, or a lowercase reference
                self._cell_ref(body[start + 6:end])
            else:
                self._furthest_column(body)
                exact = True
            pos = start + 1
        row_tag = body.rfind(b"<row")
        if row_tag >= 0:
            m = _ATTR_R.search(body, row_tag, body.find(b">", row_tag))
            value = (m.group(1) or m.group(2) or b"").strip() if m else b""
            if value.isdigit() and len(value) <= 15:
                self._row = max(self._row, int(value))

    def _furthest_column(self, body: bytes) -> None:
        """Place the chunk's furthest column (with a reference that reaches it)."""
        letters = max(set(_PLAIN_COL.findall(body)), key=lambda c: (len(c), c.upper()))
        at = re.search(b'<c r="' + re.escape(letters) + rb"\d", body).start() + 6
        end = body.find(b'"', at)
        self._cell_ref(body[at:end if end >= 0 else at + 64])  # refused there if it is no cell address

    def _pattern(self) -> re.Pattern[bytes]:
        """'<c' starting a cell that is not '<c r="' + a column and row within the furthest seen."""
        key = (self.max_col, self.max_row)
        if self._fast is None or self._fast_for != key:
            col = column_letters(max(self.max_col, 1)).encode()
            row = str(max(self.max_row, 1)).encode()
            self._fast = re.compile(rb'<c(?![^\s/>]| r="' + _at_most(col, _LETTERS) + _at_most(row, _DIGITS)
                                    + rb'")')
            self._fast_for = key
        return self._fast

    def _walk(self, body: bytes) -> None:
        """Every <row> and <c> start tag in order, placed as calamine places them."""
        for m in _TAG.finditer(body):
            r = _ATTR_R.search(m.group(2))
            value = (r.group(1) if r.group(1) is not None else r.group(2)) if r else None
            if m.group(1) == b"row":
                self._col = 0
                if value is not None and value.strip().isdigit() and len(value.strip()) <= 15:
                    self._row = int(value.strip())
                else:
                    self._row += 1
            elif value is not None:
                self._cell_ref(value)
            else:
                row, col = max(self._row, 1), self._col + 1
                self._place(row, col, f"{column_letters(col)}{row}")


# Parts already checked in this process, by file identity (device, inode, size, modification time): a workbook
# is checked when it is opened and again when a sheet is loaded; an edited file has a new identity.
_CHECKED: dict[tuple, bool] = {}
_CHECKED_MAX = 256  # a few sheets for each of the ~30 workbooks of a folder; bounded for long-lived processes


def file_identity(path: Path) -> tuple:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def remember(key: tuple) -> None:
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.pop(next(iter(_CHECKED)))
    _CHECKED[key] = True


def checked(key: tuple) -> bool:
    return key in _CHECKED


def scan_sheet(path: Path, info: zipfile.ZipInfo, limits: XlsxLimits, where: str, *,
               keep: bool = False) -> bytes | None:
    """Inflate one worksheet within ``limits`` (actual size and extent); its XML when ``keep``."""
    key = ("sheet", file_identity(path), info.filename, limits)
    if not keep and checked(key):
        return None
    extent = SheetExtent(path, where, limits)
    kept: list[bytes] = []
    for chunk in inflate_member(path, info, limits.sheet_bytes, where=where):
        extent.feed(chunk)
        if keep:
            kept.append(chunk)
    extent.close()
    remember(key)
    return b"".join(kept) if keep else None
