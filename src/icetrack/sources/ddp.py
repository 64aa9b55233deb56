"""Readers for Deportation Data Project (DDP) person-level ICE releases, and the shared canonicalisation.

Records are already-anonymized public FOIA releases, used only for aggregate statistics. Nothing here
identifies, locates or profiles a person: direct-identifier columns (A-numbers, EID subject/person/case ids,
names, birth dates, employee ids) are never loaded - their cells are only counted (they are redacted in every
public file; an unredacted value would be dropped and reported in ``report.warnings``).

Formats (``read_ddp(path, table=None, release_id=None, chunk_rows=200_000)``):

* **Raw ICE xlsx** as DDP republishes them: several sheets per table (about 1M rows each), every sheet with a
  title block (6 rows) above the header (row 7). The header is found by content in the first 15 rows of each
  sheet (read straight from the sheet XML, so finding it costs milliseconds); cells are then read with
  fastexcel in one pass per sheet: text columns as text, date columns as dates, and identifier columns with
  their cell types checked over every row, so an identifier stored as an Excel number is refused, never
  turned into digits. A sheet without any tabular content (a footnotes tab) is skipped with a warning.
* **Processed parquet / feather / csv** with DDP's snake_case names (one table per file; the table comes from
  ``table``, the file's ``icetrack_table`` metadata, its name, or its columns). CSV is read with every column
  as text (pyarrow streaming reader); ``NA`` (R's missing value) and blanks are null.
* **UWCHR's joined file** ``joined_df_wa.csv`` (``read_ddp_joined``): column suffixes ``.arrest``,
  ``.detainer``, ``.encounter``, ``.detention`` split it into the canonical tables; each table gets the
  distinct rows it contributed (a detainer joined to three stints appears once in detainers).

Column names go through ``data/ddp_crosswalk.csv`` (built by ``tools/build_crosswalk.py`` from the DDP docs),
matched case-, space- and punctuation-insensitively (:func:`column_key`). A source column without a canonical
home is kept, as text, in ``extra`` (key = the header as printed) and listed in ``report.unknown_columns``.

Values: surrounding whitespace is trimmed and inner runs collapsed (``Not  Applicable`` -> ``Not
Applicable``); blank cells are null; a FOIA redaction marker - any ``(b)(n)...`` form, e.g. ``(b)(6),
(b)(7)c)``, ``(b)(7)(E )``, ``b(6), b(7)c`` - makes the cell null and is counted per column in
``report.redacted``; a column that is entirely blank or redacted is listed in ``report.all_redacted_or_blank``.
Dates: ISO, ``M/D/YYYY`` (padded or not), with or without a time; an impossible date (2/30) is an error, not
rolled over. Identifiers are text, always: numeric cells, float/int columns, scientific notation
(``1.23457E+18``) or 19-digit values truncated to 15 significant digits are refused with a SourceError.

Bad input raises :class:`~icetrack.domain.edition.SourceError` (one line: file, sheet/table, row, problem) -
for header or layout problems when ``read_ddp`` is called, for cell problems while the batches stream.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import re
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icetrack.domain.person_schema import EVENT_DATE, TABLES, PersonRelease, ReaderReport
from icetrack.domain.edition import EditionInfo, SourceError, file_digest

PARSER_VERSION = "1"
CROSSWALK_PATH = Path(__file__).resolve().parents[1] / "data" / "ddp_crosswalk.csv"
WITHHELD = "!withheld"  # crosswalk marker: direct identifier, values never loaded

SOURCE_RAW = "ddp_ice_raw_xlsx"
SOURCE_PROCESSED = "ddp_ice_processed"
SOURCE_JOINED = "uwchr_ddp_joined"
PUBLISHER_RAW = ("U.S. Immigration and Customs Enforcement, ERO-LESA Statistical Tracking Unit "
                 "(FOIA release, via the Deportation Data Project)")
PUBLISHER_PROCESSED = "Deportation Data Project (processed ICE FOIA release)"
PUBLISHER_JOINED = "UW Center for Human Rights (join of Deportation Data Project ICE records)"
DDP_URL = "https://deportationdata.org"
JOINED_URL = "https://github.com/UWCHR/deport-data-proj"

HEADER_SEARCH_ROWS = 15  # the header must be within the first rows of a sheet
PEEK_ROWS = 40
PEEK_MAX_BYTES = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 64 * 1024 * 1024

TS = pa.timestamp("us")
EARLIEST = datetime(1900, 1, 1)  # earlier dates are placeholders (ICE prints 01/01/0001 for "no date")
JOINED_SUFFIXES = {"arrest": "arrests", "detainer": "detainers", "encounter": "encounters",
                   "detention": "detention_stints"}
JOIN_LEVEL = "(join)"  # report key for columns of a joined file that belong to no single table

# Table from a file name or title text (first match wins; order matters).
_TABLE_WORDS = [
    ("detainers", re.compile(r"detainer", re.IGNORECASE)),
    ("detention_stints", re.compile(r"detention|book[\s_-]*ins?\b|stints?\b|stays?\b", re.IGNORECASE)),
    ("encounters", re.compile(r"encounter", re.IGNORECASE)),
    ("removals", re.compile(r"removal|departure", re.IGNORECASE)),
    ("arrests", re.compile(r"arrest|apprehension", re.IGNORECASE)),
]

# --- names --------------------------------------------------------------------------------------------------


def column_key(name: object) -> str:
    """Case-, space- and punctuation-insensitive key of a column name ('Apprehension AOR' = 'apprehension_aor')."""
    text = unicodedata.normalize("NFKC", str(name or "")).casefold()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class CrosswalkEntry:
    table: str
    source_column: str
    canonical_column: str  # "" = no canonical home (extra); WITHHELD = never loaded
    release_note: str

    @property
    def fallback(self) -> bool:
        return self.release_note.startswith("fallback")


class Crosswalk:
    """Lookup of (table, source column) -> :class:`CrosswalkEntry`, by :func:`column_key`."""

    def __init__(self, entries: Iterable[CrosswalkEntry]):
        self.entries = list(entries)
        self._by_key: dict[tuple[str, str], CrosswalkEntry] = {}
        for e in self.entries:
            self._by_key.setdefault((e.table, column_key(e.source_column)), e)
        self._keys = {k for _, k in self._by_key}

    def lookup(self, table: str, name: str) -> CrosswalkEntry | None:
        return self._by_key.get((table, column_key(name)))

    def is_known(self, name: str) -> bool:
        return column_key(name) in self._keys

    def maps(self, table: str, name: str) -> str | None:
        """Canonical column of ``name`` in ``table`` (None when unmapped, unknown or withheld)."""
        e = self.lookup(table, name)
        return e.canonical_column if e and e.canonical_column not in ("", WITHHELD) else None


@lru_cache(maxsize=4)
def load_crosswalk(path: str | Path | None = None) -> Crosswalk:
    path = Path(path or CROSSWALK_PATH)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return Crosswalk(CrosswalkEntry(r["table"], r["source_column"], r["canonical_column"], r["release_note"])
                     for r in rows)


# --- values -------------------------------------------------------------------------------------------------

# A FOIA exemption marker: (b)(6), b(6), (b) (7)(C ), ... at the start of the value or after a separator
# (so a statute such as '241(b)(3)' inside a value is not taken for one).
REDACTION_PATTERN = r"(?i)(?:^|[\s,;/&])\(?\s*b\s*\)?\s*\(\s*[1-9]\s*\)"
_REDACTION_RE = re.compile(REDACTION_PATTERN[4:], re.IGNORECASE)
_WS_RUN = r"\s{2,}|[\t\r\n\v\f\x{00A0}]"


def is_redacted(value: object) -> bool:
    """True when ``value`` carries a FOIA redaction marker (any ``(b)(n)`` spelling)."""
    return isinstance(value, str) and _REDACTION_RE.search(value) is not None


def normalise_text(value: object) -> str | None:
    """Trim, collapse inner whitespace; blank -> None (the scalar twin of the vectorised cleaning)."""
    if value is None:
        return None
    text = " ".join(str(value).replace("\xa0", " ").split())
    return text or None


def _as_array(a) -> pa.Array:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    if pa.types.is_dictionary(a.type):
        a = a.dictionary_decode()
    if pa.types.is_large_string(a.type) or pa.types.is_string_view(a.type):
        a = a.cast(pa.string())
    return a


def _clean_values(values: pa.Array, na_values: Sequence[str], collapse: bool = True):
    """(cleaned strings with blanks/redactions/NA -> null, redacted bool mask or None)."""
    t = pc.utf8_trim_whitespace(values)
    if collapse:
        t = pc.utf8_trim_whitespace(pc.replace_substring_regex(t, _WS_RUN, " "))
    red = pc.match_substring_regex(t, REDACTION_PATTERN)
    any_red = pc.any(red).as_py() or False
    drop = pc.equal(t, "")
    if any_red:
        drop = pc.or_kleene(drop, red)
    if na_values:
        drop = pc.or_kleene(drop, pc.is_in(t, value_set=pa.array(list(na_values), pa.string())))
    clean = pc.if_else(drop, pa.scalar(None, pa.string()), t)
    return clean, (pc.fill_null(red, False) if any_red else None)


def clean_text(arr, na_values: Sequence[str] = (), identifier: bool = False):
    """Clean a text column: returns (strings, redacted mask or None). Low-cardinality columns are cleaned
    on their distinct values only (dictionary encoding), identifiers value by value (no collapse)."""
    arr = _as_array(arr)
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string()), None
    if identifier:
        return _clean_values(arr, na_values, collapse=False)
    enc = pc.dictionary_encode(arr)
    cdic, rdic = _clean_values(enc.dictionary, na_values)
    if rdic is None and cdic.null_count == 0 and cdic.equals(enc.dictionary):
        return arr, None  # already clean: no copy
    clean = cdic.take(enc.indices)
    red = pc.fill_null(rdic.take(enc.indices), False) if rdic is not None else None
    return clean, red


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%Y/%m/%d", "%d-%b-%Y", "%d-%b-%y",
)
_SINGLE_DIGIT = r"(^|[^0-9])([0-9])([^0-9]|$)"


def _pad(values: pa.Array) -> pa.Array:
    for _ in range(2):  # overlapping matches ('1/1/2012') need a second pass
        values = pc.replace_substring_regex(values, _SINGLE_DIGIT, r"\10\2\3")
    return pc.utf8_lower(values)


def parse_timestamps(values: pa.Array, on_error) -> pa.Array:
    """Strings -> timestamp[us]. ``on_error(index, value)`` is called (and must raise) for the first value
    that is no date in a known format, or an impossible one (2/30/2020 is not read as March 1)."""
    values = _as_array(values)
    n = len(values)
    if values.null_count == n:
        return pa.nulls(n, TS)
    enc = pc.dictionary_encode(values)
    dic = enc.dictionary
    padded = _pad(dic)
    result = pa.nulls(len(dic), TS)
    pending = dic.is_valid()
    for fmt in _DATE_FORMATS:
        if not pc.any(pending).as_py():
            break
        parsed = pc.strptime(dic, format=fmt, unit="us", error_is_null=True)
        if parsed.null_count == len(parsed):
            continue
        back = pc.utf8_lower(pc.strftime(parsed.cast(pa.timestamp("s")), format=fmt))
        ok = pc.fill_null(pc.equal(back, padded), False)
        take = pc.and_(pending, ok)
        result = pc.if_else(take, parsed, result)
        pending = pc.and_(pending, pc.invert(ok))
    if pc.any(pending).as_py():
        # ISO with fractional seconds ('2024-04-26 12:47:55.910'): Arrow's ISO-8601 cast, all at once
        iso = pc.and_(pending, pc.fill_null(pc.match_substring_regex(
            dic, r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d{1,9}$"), False))
        if pc.any(iso).as_py():
            try:
                cast = pc.if_else(iso, dic, pa.scalar(None, pa.string())).cast(TS)
                result = pc.coalesce(result, cast)
                pending = pc.and_(pending, pc.invert(iso))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
    if pc.any(pending).as_py():
        left = np.flatnonzero(pending.to_numpy(zero_copy_only=False))
        fixed = {}
        for i in left:
            v = dic[int(i)].as_py()
            try:
                fixed[int(i)] = datetime.fromisoformat(v.replace("/", "-") if re.match(r"^\d{4}/", v) else v)
            except ValueError:
                first = pc.index(enc.indices, pa.scalar(int(i), enc.indices.type)).as_py()
                on_error(first, v)
                raise AssertionError("on_error must raise")  # pragma: no cover
        idx = np.arange(len(dic))
        patch = pa.array([fixed.get(int(i)) for i in idx], TS)
        result = pc.coalesce(result, patch)
    return result.take(enc.indices)


def _first_true(mask: pa.Array) -> int:
    return int(np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))[0])


# --- planning: header -> canonical columns ------------------------------------------------------------------


@dataclass
class _Col:
    index: int  # position among the source arrays
    printed: str  # source header as printed (the key in extra / report)
    kind: str  # "canonical" | "extra" | "withheld"
    target: str  # canonical column, or the extra key


class _Sink:
    """Per (file, table) accumulation into the ReaderReport while batches stream."""

    def __init__(self, table: str, report: ReaderReport):
        self.table = table
        self.report = report
        self.nonnull: dict[str, int] = defaultdict(int)
        self.columns: list[str] = []
        self.withheld_values: dict[str, int] = defaultdict(int)
        self.placeholder_dates: dict[str, int] = defaultdict(int)
        self.empty_rows = 0
        report.rows.setdefault(table, 0)

    def see(self, name: str) -> None:
        if name not in self.nonnull:
            self.nonnull[name] = 0
            self.columns.append(name)

    def redacted(self, name: str, n: int) -> None:
        if n:
            d = self.report.redacted.setdefault(self.table, {})
            d[name] = d.get(name, 0) + n

    def unknown(self, printed: str) -> None:
        lst = self.report.unknown_columns.setdefault(self.table, [])
        if printed not in lst:
            lst.append(printed)

    def finish(self) -> None:
        self.report.all_redacted_or_blank[self.table] = [c for c in self.columns if self.nonnull[c] == 0]
        if self.empty_rows:
            self.report.warnings.append(f"{self.table}: {self.empty_rows:,} empty row(s) skipped")
        for name, n in self.placeholder_dates.items():
            self.report.warnings.append(f"{self.table}: {n:,} placeholder date(s) before {EARLIEST:%Y} (ICE's "
                                        f"'01/01/0001' = no date) in '{name}' read as missing")
        for name, n in self.withheld_values.items():
            if n:
                self.report.warnings.append(
                    f"{self.table}: {n:,} unredacted value(s) in direct-identifier column '{name}' were not loaded")


class _Plan:
    """How the columns of one header (a sheet, a CSV, a parquet file) become one canonical table."""

    def __init__(self, path: Path, table: str, printed: Sequence[str], crosswalk: Crosswalk, sink: _Sink, *,
                 required: Sequence[str], where: str | None = None, lookup: Sequence[str] | None = None):
        self.path, self.table, self.where, self.sink = path, table, where, sink
        self.schema = TABLES[table]
        lookup = list(lookup) if lookup is not None else list(printed)
        cols: list[_Col] = []
        candidates: dict[str, list[tuple[bool, int, str]]] = defaultdict(list)
        unknown_names: list[str] = []
        for i, (name, key_name) in enumerate(zip(printed, lookup)):
            if name is None or not str(name).strip():
                continue
            name = str(name)
            entry = crosswalk.lookup(table, key_name)
            if entry is None or entry.canonical_column == "":
                if entry is None:
                    unknown_names.append(name)
                cols.append(_Col(i, name, "extra", name))
            elif entry.canonical_column == WITHHELD:
                cols.append(_Col(i, name, "withheld", name))
            else:
                candidates[entry.canonical_column].append((entry.fallback, i, name))
        for canonical, cands in candidates.items():
            cands.sort()
            _, i, name = cands[0]
            cols.append(_Col(i, name, "canonical", canonical))
            for _, j, other in cands[1:]:
                cols.append(_Col(j, other, "extra", other))
                sink.report.warnings.append(f"{table}: '{other}' also maps to {canonical}; '{name}' is used, "
                                            f"'{other}' kept in extra")
        # extra keys must be unique within the map
        seen: dict[str, int] = {}
        for c in cols:
            if c.kind == "extra":
                k = seen.get(c.target, 0)
                seen[c.target] = k + 1
                if k:
                    c.target = f"{c.target} ({k + 1})"
        cols.sort(key=lambda c: c.index)
        self.cols = cols
        mapped = {c.target for c in cols if c.kind == "canonical"}
        missing = [r for r in required if r not in mapped]
        if missing:
            unk = ", ".join(repr(u) for u in unknown_names[:8]) or "none"
            raise SourceError(path, f"required column(s) {', '.join(missing)} not found in the header of the "
                                    f"{table} table (unrecognised headers: {unk})", where=where)
        for c in cols:
            if c.kind != "canonical":
                sink.unknown(c.printed)
            sink.see(c.target)

    def error(self, problem: str, row: int | None = None) -> SourceError:
        return SourceError(self.path, problem, where=self.where, row=row)

    # -- conversion -----------------------------------------------------------------------------------------

    def convert(self, arrays: Sequence, source_rows: np.ndarray, *, release_id: str, edition_id: str,
                file_name: str, sheet: str | None, synthetic: bool, na_values: Sequence[str] = (),
                constants: dict[str, object] | None = None) -> pa.RecordBatch | None:
        """Canonical batch from source arrays aligned with the header (None when every row was empty).
        ``constants`` fills canonical columns the source does not carry (e.g. removal_type)."""
        n = len(source_rows)
        out: dict[str, pa.Array] = {}
        extra: list[tuple[str, pa.Array]] = []
        content = None

        def note_content(valid: pa.Array, red: pa.Array | None) -> None:
            nonlocal content
            m = valid if red is None else pc.or_(valid, red)
            content = m if content is None else pc.or_(content, m)

        for c in self.cols:
            arr = _as_array(arrays[c.index])
            field_type = self.schema.field(c.target).type if c.kind == "canonical" else pa.string()
            if c.kind == "withheld":
                if pa.types.is_string(arr.type):
                    clean, red = clean_text(arr, na_values)
                    note_content(clean.is_valid(), red)
                    self.sink.redacted(c.printed, int(pc.sum(red).as_py() or 0) if red is not None else 0)
                    self.sink.withheld_values[c.printed] += len(clean) - clean.null_count
                else:
                    note_content(arr.is_valid(), None)
                    self.sink.withheld_values[c.printed] += len(arr) - arr.null_count
                continue
            value, red = self._typed(c, arr, field_type, source_rows, na_values)
            if pa.types.is_timestamp(field_type) and value.null_count < len(value):
                # ICE's "no date" placeholder (01/01/0001) and other pre-1900 dates are missing values
                early = pc.fill_null(pc.less(value, pa.scalar(EARLIEST, TS)), False)
                k = int(pc.sum(early).as_py() or 0)
                if k:
                    value = pc.if_else(early, pa.scalar(None, TS), value)
                    self.sink.placeholder_dates[c.printed] += k
            note_content(value.is_valid(), red)
            if red is not None:
                self.sink.redacted(c.target, int(pc.sum(red).as_py() or 0))
            if c.kind == "canonical":
                out[c.target] = value
            else:
                extra.append((c.target, value))
        rows = pa.array(source_rows, pa.int64())
        if content is not None and not pc.all(content).as_py():
            keep = content
            self.sink.empty_rows += n - int(pc.sum(keep).as_py() or 0)
            out = {k: v.filter(keep) for k, v in out.items()}
            extra = [(k, v.filter(keep)) for k, v in extra]
            rows = rows.filter(keep)
            n = len(rows)
        if n == 0:
            return None
        for name, value in list(out.items()) + extra:
            self.sink.nonnull[name] += len(value) - value.null_count
        arrays_out = []
        for f in self.schema:
            if f.name == "release_id":
                arrays_out.append(pa.repeat(pa.scalar(release_id, pa.string()), n))
            elif f.name == "edition_id":
                arrays_out.append(pa.repeat(pa.scalar(edition_id, pa.string()), n))
            elif f.name == "source_file":
                arrays_out.append(pa.repeat(pa.scalar(file_name, pa.string()), n))
            elif f.name == "source_sheet":
                arrays_out.append(pa.repeat(pa.scalar(sheet, pa.string()), n) if sheet is not None
                                  else pa.nulls(n, pa.string()))
            elif f.name == "source_row":
                arrays_out.append(rows)
            elif f.name == "synthetic":
                arrays_out.append(pa.repeat(pa.scalar(bool(synthetic), pa.bool_()), n))
            elif f.name == "extra":
                arrays_out.append(build_map(extra, n))
            elif f.name in out:
                arrays_out.append(out[f.name])
            elif constants and constants.get(f.name) is not None:
                arrays_out.append(pa.repeat(pa.scalar(constants[f.name], f.type), n))
            else:
                arrays_out.append(pa.nulls(n, f.type))
        self.sink.report.rows[self.table] = self.sink.report.rows.get(self.table, 0) + n
        return pa.RecordBatch.from_arrays(arrays_out, schema=self.schema)

    def _typed(self, c: _Col, arr: pa.Array, ftype: pa.DataType, source_rows: np.ndarray, na_values):
        """(value array of ftype, redacted mask or None) for one source column."""
        is_id = c.kind == "canonical" and c.target == "unique_identifier"
        where_col = f"column '{c.printed}'"
        if pa.types.is_null(arr.type):
            return pa.nulls(len(arr), ftype), None
        if is_id and not pa.types.is_string(arr.type):
            kind = ("numbers" if (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)
                                  or pa.types.is_decimal(arr.type)) else str(arr.type))
            first = _first_true(arr.is_valid()) if arr.null_count < len(arr) else 0
            raise self.error(f"identifiers in {where_col} are stored as {kind} ({arr.type}), not text: 19-digit "
                             "identifiers lose digits beyond 15-17 significant figures and collide; "
                             "re-export the column as text", int(source_rows[first]) if len(source_rows) else None)
        if pa.types.is_string(arr.type):
            clean, red = clean_text(arr, na_values, identifier=is_id)
            if is_id:
                self._check_identifiers(clean, c, source_rows)
            if pa.types.is_string(ftype):
                return clean, red
            if pa.types.is_timestamp(ftype):
                def bad(i, v):
                    raise self.error(f"unreadable date {v!r} in {where_col}", int(source_rows[i]))
                return parse_timestamps(clean, bad), red
            return self._numbers(clean, c, ftype, source_rows), red
        # typed source (parquet / feather / xlsx date cells)
        if pa.types.is_timestamp(ftype):
            if pa.types.is_timestamp(arr.type):
                if arr.type.tz is not None:
                    arr = arr.cast(pa.timestamp("us", tz=arr.type.tz)).view(pa.int64()).view(TS)
                return arr.cast(TS), None
            if pa.types.is_date(arr.type):
                return arr.cast(TS), None
            raise self.error(f"{where_col} should hold dates but holds {arr.type}")
        if pa.types.is_string(ftype):
            return _to_text(arr), None
        if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
            return self._numbers(arr, c, ftype, source_rows), None
        raise self.error(f"{where_col} should hold numbers but holds {arr.type}")

    def _numbers(self, arr: pa.Array, c: _Col, ftype: pa.DataType, source_rows: np.ndarray) -> pa.Array:
        if pa.types.is_string(arr.type):
            stripped = pc.replace_substring_regex(arr, r"[$,\s]", "")
            try:
                num = stripped.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                ok = pc.match_substring_regex(stripped, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
                i = _first_true(pc.and_(stripped.is_valid(), pc.invert(pc.fill_null(ok, True))))
                raise self.error(f"unreadable number {arr[i].as_py()!r} in column '{c.printed}'",
                                 int(source_rows[i])) from None
        else:
            num = arr.cast(pa.float64())
        if pa.types.is_integer(ftype):
            vals = num.to_numpy(zero_copy_only=False)
            valid = ~np.isnan(vals)
            bad = valid & ((vals != np.round(vals)) | (vals < 1850) | (vals > 2100))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise self.error(f"unreadable year {vals[i]!r} in column '{c.printed}'", int(source_rows[i]))
            return pa.array(np.where(valid, vals, 0).astype(np.int32), ftype, mask=~valid)
        return num.cast(ftype)

    def _check_identifiers(self, ids: pa.Array, c: _Col, source_rows: np.ndarray) -> None:
        """Refuse identifiers that went through a number: scientific notation, a decimal point, or long digit
        strings that mostly end in zeros after at most 15 significant digits (Excel's precision)."""
        if ids.null_count == len(ids):
            return
        # digits (with a decimal point or not), or Excel/Python scientific notation ('1.23457E+18'); a 40-hex
        # hash made of digits and one 'e' is not taken for a number (the exponent has at most 3 digits)
        numeric = pc.fill_null(pc.match_substring_regex(
            ids, r"^[+-]?\d[\d.]*$|^[+-]?\d(\.\d+)?[eE][+-]?\d{1,3}$"), False)
        if not pc.any(numeric).as_py():
            return
        pos = np.flatnonzero(numeric.to_numpy(zero_copy_only=False))
        sub = ids.filter(numeric)
        sci = pc.match_substring_regex(sub, r"[eE]")
        if pc.any(sci).as_py():
            i = int(pos[_first_true(sci)])
            raise self.error(f"identifier {ids[i].as_py()!r} in column '{c.printed}' is a number in scientific "
                             "notation: the identifiers were stored as numbers and truncated to 15 significant "
                             "digits (collisions); re-export them as text", int(source_rows[i]))
        dec = pc.match_substring(sub, ".")
        if pc.any(dec).as_py():
            i = int(pos[_first_true(dec)])
            raise self.error(f"identifier {ids[i].as_py()!r} in column '{c.printed}' looks like a stored number "
                             "(decimal point): identifiers must be text", int(source_rows[i]))
        long_digits = pc.match_substring_regex(sub, r"^\d{16,}$")
        n_long = int(pc.sum(long_digits).as_py() or 0)
        if n_long:
            trunc = pc.and_(long_digits, pc.match_substring_regex(sub, r"^\d{1,15}0+$"))
            n_trunc = int(pc.sum(trunc).as_py() or 0)
            if n_trunc * 2 > n_long:
                i = int(pos[_first_true(trunc)])
                raise self.error(f"{n_trunc:,} of {n_long:,} long numeric identifiers in column '{c.printed}' "
                                 f"(e.g. {ids[i].as_py()!r}) end in zeros after at most 15 significant digits: "
                                 "they were stored as numbers and truncated (collisions); re-export as text",
                                 int(source_rows[i]))


def _to_text(arr: pa.Array) -> pa.Array:
    """Any typed column as text (for ``extra``): dates as ISO, whole floats without '.0'."""
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        ts = arr.cast(TS) if pa.types.is_date(arr.type) else arr.cast(pa.timestamp("us", tz=arr.type.tz))
        micros = ts.cast(pa.int64()).to_numpy(zero_copy_only=False)
        valid = ts.is_valid().to_numpy(zero_copy_only=False)
        us = micros[valid].astype(np.int64)
        if ts.type.tz is not None:
            ts = ts.view(pa.int64()).view(TS)  # wall time in UTC, as stored
        if np.all(us % 86_400_000_000 == 0):
            return ts.cast(pa.date32(), safe=False).cast(pa.string())
        if np.all(us % 1_000_000 == 0):
            return ts.cast(pa.timestamp("s")).cast(pa.string())
        return ts.cast(pa.string())
    if pa.types.is_floating(arr.type):
        vals = arr.to_numpy(zero_copy_only=False)
        valid = ~np.isnan(vals)
        if valid.any() and np.all(vals[valid] == np.round(vals[valid])) and np.all(np.abs(vals[valid]) < 2**53):
            return arr.cast(pa.int64()).cast(pa.string())
    return arr.cast(pa.string())


def build_map(entries: list[tuple[str, pa.Array]], n: int) -> pa.MapArray:
    """map<string,string> per row from named string columns (nulls left out), built column-wise."""
    if not entries:
        return pa.MapArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], pa.string()),
                                       pa.array([], pa.string()))
    valid = np.stack([np.asarray(v.is_valid().to_numpy(zero_copy_only=False), bool) for _, v in entries])
    counts = valid.sum(axis=0)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    rows_i, cols_k = np.nonzero(valid.T)  # row-major: row by row, columns in order
    items = pa.concat_arrays([v for _, v in entries]).take(pa.array(cols_k.astype(np.int64) * n + rows_i))
    keys = pa.array([k for k, _ in entries], pa.string()).take(pa.array(cols_k))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, items)


# --- shared helpers -----------------------------------------------------------------------------------------

_RANGE_END = re.compile(r"\(\s*\d{1,2}/\d{1,2}/\d{2,4}\s*-\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\s*\)")
_THROUGH = re.compile(r"\bthrough\s+(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", re.IGNORECASE)


def title_cutoff(text: str) -> date | None:
    """The end date in a title: '(01/01/2012 - 07/06/2019)' -> 2019-07-06, 'through 04/27/2018' -> 2018-04-27."""
    for rx in (_RANGE_END, _THROUGH):
        m = rx.search(text or "")
        if m:
            mm, dd, yy = int(m.group(1)), int(m.group(2)), int(m.group(3))
            yy = yy + 2000 if yy < 100 else yy
            try:
                return date(yy, mm, dd)
            except ValueError:
                return None
    return None


def table_from_text(text: str) -> str | None:
    for table, rx in _TABLE_WORDS:
        if rx.search(text or ""):
            return table
    return None


def find_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(byte offset in the decoded stream, 1-based line) of the first invalid UTF-8 sequence, or None."""
    opener = gzip.open if _is_gzip(path) else open
    offset, line = 0, 0
    with opener(path, "rb") as fh:
        for raw in fh:
            line += 1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return offset + exc.start, line
            offset += len(raw)
    return None


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _edition(path: Path, source: str, publisher: str, *, title: str | None = None, note: str | None = None,
             as_of: date | None = None, synthetic: bool = False, url: str | None = None) -> EditionInfo:
    try:
        sha, size = file_digest(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror or exc}") from None
    return EditionInfo(source=source, publisher=publisher, file_name=path.name, sha256=sha, size_bytes=size,
                       parser_version=PARSER_VERSION, original_url=url, as_of=as_of, title=title, note=note,
                       synthetic=synthetic)


def _default_release_id(path: Path) -> str:
    foia = re.findall(r"\d{4}[-_]IC[A-Z]{2}[-_]\d{5}", path.name, re.IGNORECASE)
    if foia:
        return "ice-foia:" + "_".join(dict.fromkeys(f.upper().replace("_", "-") for f in foia))
    return "ddp:" + re.sub(r"(\.[A-Za-z0-9]+)+$", "", path.name)


def _required(table: str, with_identifier: bool = True) -> tuple[str, ...]:
    return (EVENT_DATE[table],) + (("unique_identifier",) if with_identifier else ())


def _guess_table(path: Path, names: Sequence[str], crosswalk: Crosswalk, titles: str = "") -> str:
    t = table_from_text(path.name) or table_from_text(titles)
    if t:
        return t
    scores = {}
    for table in TABLES:
        mapped = {crosswalk.maps(table, n) for n in names} - {None}
        if EVENT_DATE[table] in mapped:
            scores[table] = len(mapped)
    if scores:
        best = max(scores.values())
        winners = [t for t, s in scores.items() if s == best]
        if len(winners) == 1:
            return winners[0]
    raise SourceError(path, "cannot tell which table (arrests, detainers, detention_stints, encounters, "
                            "removals) this file holds from its name or columns: pass table=")


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    size = max(1, int(size))
    for start in range(0, n, size):
        yield start, min(n, start + size)


# --- public API ---------------------------------------------------------------------------------------------


def read_ddp(path: str | Path, table: str | None = None, release_id: str | None = None,
             chunk_rows: int = 200_000, *, cutoff: date | None = None,
             crosswalk: Crosswalk | None = None) -> PersonRelease:
    """Stream one DDP person-level file (raw ICE xlsx, processed parquet/feather/csv) as canonical batches.

    ``table`` (arrests, detainers, detention_stints, encounters, removals) is inferred when None.
    ``release_id`` defaults to the FOIA request numbers in the file name (identifiers link only within a
    release). ``cutoff`` overrides the data cut-off (otherwise the title's end date, or None).
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    if table is not None and table not in TABLES:
        raise SourceError(path, f"unknown table '{table}' (expected one of {', '.join(TABLES)})")
    crosswalk = crosswalk or load_crosswalk()
    name = path.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(path, table, release_id, chunk_rows, cutoff, crosswalk)
    if name.endswith(".parquet"):
        return _read_arrow_file(path, table, release_id, chunk_rows, cutoff, crosswalk, kind="parquet")
    if name.endswith((".feather", ".arrow", ".ipc")):
        return _read_arrow_file(path, table, release_id, chunk_rows, cutoff, crosswalk, kind="feather")
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        header = _csv_header(path)
        if any(h.rpartition(".")[2] in JOINED_SUFFIXES for h in header):
            return read_ddp_joined(path, release_id=release_id, chunk_rows=chunk_rows, crosswalk=crosswalk)
        return _read_csv(path, header, table, release_id, chunk_rows, cutoff, crosswalk)
    raise SourceError(path, "unsupported file type (expected .xlsx, .parquet, .feather or .csv)")


# --- raw ICE xlsx -------------------------------------------------------------------------------------------

_ROW_RE = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.DOTALL)
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_ATTR_R = re.compile(rb'\br="([A-Za-z]*)(\d*)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_UNRESOLVED = "\x00"  # prefix of a shared-string cell not looked up yet ("\x00<index>", non-empty)
_V_RE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.DOTALL)
_T_RE = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.DOTALL)
_RPH_RE = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.DOTALL)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ElementTree.ParseError)


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n - 1


class _SharedStrings:
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
class _SheetPeek:
    name: str
    member: str
    rows: list[tuple[int, dict[int, tuple[str, str]]]] = field(default_factory=list)
    header_row: int | None = None  # Excel row number (1-based)
    header: list[tuple[int, str]] = field(default_factory=list)  # (column index, text)
    titles: list[str] = field(default_factory=list)
    dimension: tuple[int, int] | None = None  # (columns, rows) from the sheet's <dimension ref="A1:W500008"/>

    def column_kinds(self, col: int, limit: int = 25) -> set[str]:
        kinds = set()
        for r, cells in self.rows:
            if self.header_row is not None and r > self.header_row and col in cells and cells[col][1] != "":
                kinds.add(cells[col][0])
                if len(kinds) >= limit:
                    break
        return kinds


def _open_xlsx(path: Path) -> tuple[zipfile.ZipFile, list[tuple[str, str]], str | None]:
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
    except _ZIP_ERRORS as exc:
        raise SourceError(path, f"not a readable xlsx (zip) file, truncated or corrupt: {exc}") from None


def _peek_sheet(zf: zipfile.ZipFile, name: str, member: str, sst: _SharedStrings) -> _SheetPeek:
    peek = _SheetPeek(name, member)
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
        peek.rows.append((rownum, cells))
    return peek


def _find_header(path: Path, peek: _SheetPeek, crosswalk: Crosswalk, sst: _SharedStrings) -> bool:
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


def _fastexcel_names(texts: Sequence[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for t in texts:
        k = seen[t]
        out.append(t if k == 0 else f"{t}_{k}")
        seen[t] += 1
    return out


def _read_xlsx(path: Path, table: str | None, release_id: str | None, chunk_rows: int, cutoff: date | None,
               crosswalk: Crosswalk) -> PersonRelease:
    zf, sheets, sst_member = _open_xlsx(path)
    report = ReaderReport()
    try:
        sst = _SharedStrings(zf, sst_member)
        peeks = []
        for name, member in sheets:
            try:
                peek = _peek_sheet(zf, name, member, sst)
            except _ZIP_ERRORS as exc:
                raise SourceError(path, f"sheet unreadable, truncated or corrupt: {exc}", where=name) from None
            if _find_header(path, peek, crosswalk, sst):
                peeks.append(peek)
            else:
                report.warnings.append(f"sheet '{name}' has no table (notes or empty) and was skipped")
    finally:
        zf.close()
    if not peeks:
        raise SourceError(path, "no sheet with a recognisable header row")
    titles = " ".join(t for p in peeks for t in p.titles)
    if table is None:
        table = table_from_text(path.name) or table_from_text(titles) or _guess_table(
            path, [h for _, h in peeks[0].header], crosswalk)
    edition = _edition(path, SOURCE_RAW, PUBLISHER_RAW, title=(peeks[0].titles[-1] if peeks[0].titles else None),
                       note="; ".join(dict.fromkeys(peeks[0].titles[:-1])) or None, url=DDP_URL,
                       as_of=title_cutoff(titles))
    cutoff = cutoff or title_cutoff(titles)
    release_id = release_id or _default_release_id(path)
    sink = _Sink(table, report)
    plans = [_Plan(path, table, [h for _, h in p.header], crosswalk, sink, required=_required(table),
                   where=p.name) for p in peeks]

    for peek, plan in zip(peeks, plans):
        _check_peeked_identifiers(path, peek, plan)
    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        reader = _fastexcel_reader(path)
        for peek, plan in zip(peeks, plans):
            for batch in _sheet_batches(reader, path, peek, plan, release_id, edition.edition_id, chunk_rows):
                yield table, batch
        sink.finish()

    return PersonRelease(edition, release_id, cutoff, batches(), report)


def _check_peeked_identifiers(path: Path, peek: _SheetPeek, plan: _Plan) -> None:
    """Identifier cells stored as Excel numbers among the first rows: refused before any batch is read
    (numbers further down are caught by the full read, which checks the cell types of every row)."""
    for c in plan.cols:
        if c.kind != "canonical" or c.target != "unique_identifier":
            continue
        col = peek.header[c.index][0]
        for r, cells in peek.rows:
            if r > peek.header_row and col in cells and cells[col][0] in ("n", "b", "d", "e") and cells[col][1]:
                raise SourceError(path, f"identifiers in column '{c.printed}' are stored as Excel numbers, not "
                                        "text: 19-digit identifiers are truncated to 15 significant digits and "
                                        "collide; re-export the column as text", where=peek.name, row=r)


def _fastexcel_reader(path: Path):
    import fastexcel

    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # noqa: BLE001 - fastexcel raises several unrelated exception types
        raise SourceError(path, f"not a readable xlsx workbook: {_one_line(exc)}") from None


def _sheet_batches(reader, path: Path, peek: _SheetPeek, plan: _Plan, release_id: str, edition_id: str,
                   chunk_rows: int) -> Iterator[pa.RecordBatch]:
    arrays = _load_sheet(reader, path, peek, plan)
    n = len(arrays[0]) if arrays else 0
    first = peek.header_row + 1  # Excel row number of the first data row
    for start, stop in _chunks(n, chunk_rows):
        rows = np.arange(first + start, first + stop, dtype=np.int64)
        batch = plan.convert([a.slice(start, stop - start) for a in arrays], rows, release_id=release_id,
                             edition_id=edition_id, file_name=path.name, sheet=peek.name, synthetic=False)
        if batch is not None:
            yield batch


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _load_sheet(reader, path: Path, peek: _SheetPeek, plan: _Plan) -> list[pa.Array]:
    """One fastexcel pass over the sheet (eager: straight to Arrow); arrays aligned with ``peek.header``.

    Text columns are read as text. Identifier and date columns are not given a type: fastexcel infers it
    from *every* cell, strictly, so an identifier column holding any Excel number is caught (refused), and
    a date column holding any text cell (a redaction, a typed date) is caught and read again as text - a
    second pass over the sheet, only for such files - instead of losing those cells."""
    import fastexcel

    texts = [t for _, t in peek.header]
    names = _fastexcel_names(texts)
    by_index = {c.index: c for c in plan.cols}
    id_names = [names[c.index] for c in plan.cols if c.kind == "canonical" and c.target == "unique_identifier"]
    dtypes: dict[str, str] = {}
    date_names = []
    for i, (_col, text) in enumerate(peek.header):
        c = by_index.get(i)
        if names[i] in id_names:
            continue
        is_date = c is not None and c.kind != "withheld" and (
            (c.kind == "canonical" and pa.types.is_timestamp(plan.schema.field(c.target).type))
            or (c.kind == "extra" and "date" in column_key(text)))
        if is_date:
            date_names.append(names[i])
        else:
            dtypes[names[i]] = "string"
    wanted = set(names)
    unnamed: set[str] = set()

    def use(col) -> bool:
        if col.name in wanted:
            return True
        if col.name.startswith("__UNNAMED__"):
            unnamed.add(col.name)
        return False

    header_row = peek.header_row - 1

    def load(types: dict[str, str], coercion: str = "strict") -> pa.RecordBatch:
        return reader.load_sheet(peek.name, header_row=header_row, use_columns=use, dtypes=types,
                                 schema_sample_rows=None, dtype_coercion=coercion, eager=True)

    try:
        try:
            batch = load(dtypes)
        except fastexcel.UnsupportedColumnTypeCombinationError as exc:
            msg = _one_line(exc)
            hit = next((n for n in id_names if f"column {n}" in msg), None)
            if hit is not None:
                row = _first_numeric_row(path, peek, peek.header[names.index(hit)][0])
                raise SourceError(path, f"identifier column '{hit}' mixes numbers and text: identifiers stored as "
                                        "Excel numbers are truncated to 15 significant digits and collide; "
                                        "re-export the column as text", where=peek.name, row=row) from None
            # a date column with text cells: read the date columns as text (parsed, redactions counted)
            dtypes.update({n: "string" for n in date_names})
            try:
                batch = load(dtypes)
            except fastexcel.UnsupportedColumnTypeCombinationError as exc2:
                msg = _one_line(exc2)
                hit = next((n for n in id_names if f"column {n}" in msg), None)
                if hit is not None:
                    raise
                batch = load(dtypes, "coerce")
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - fastexcel raises several unrelated exception types
        raise SourceError(path, f"sheet unreadable: {_one_line(exc)}", where=peek.name) from None
    for n in id_names:
        if n in batch.schema.names:
            col = batch.column(n)
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_null(col.type)):
                first = _first_true(col.is_valid()) if col.null_count < len(col) else 0
                raise SourceError(path, f"identifiers in column '{n}' are stored as Excel {col.type} cells, not "
                                        "text: 19-digit identifiers are truncated to 15 significant digits and "
                                        "collide; re-export the column as text", where=peek.name,
                                  row=peek.header_row + 1 + first)
    if unnamed:
        plan.sink.report.warnings.append(
            f"sheet '{peek.name}': {len(unnamed)} column(s) without a header name were not read")
    arrays = []
    for i, n in enumerate(names):
        if n not in batch.schema.names:
            raise SourceError(path, f"column '{n}' of the header was not found by the cell reader",
                              where=peek.name)
        col = batch.column(n)
        c = by_index.get(i)
        if n in date_names and c is not None and c.kind == "extra" and pa.types.is_string(col.type):
            # date cells rendered as text by the fallback read: midnight shown as a date, as the typed read does
            col = pc.replace_substring_regex(col, r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1")
        arrays.append(col)
    return arrays


_CELL_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(/?)>(?:\s*<(?:\w+:)?v>([^<]*))?')


def _first_numeric_row(path: Path, peek: _SheetPeek, column: int) -> int | None:
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
    except _ZIP_ERRORS:
        return want


# --- processed parquet / feather / csv ----------------------------------------------------------------------


def _read_arrow_file(path: Path, table: str | None, release_id: str | None, chunk_rows: int,
                     cutoff: date | None, crosswalk: Crosswalk, kind: str) -> PersonRelease:
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            schema = pf.schema_arrow
        else:
            from pyarrow import feather

            tab = feather.read_table(path, memory_map=True)
            schema = tab.schema
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise SourceError(path, f"not a readable {kind} file, truncated or corrupt: {_one_line(exc)}") from None
    meta = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in (schema.metadata or {}).items()}
    synthetic = meta.get("icetrack_synthetic", "").lower() == "true"
    if table is None and meta.get("icetrack_table") in TABLES:
        table = meta["icetrack_table"]
    names = list(schema.names)
    if table is None:
        table = _guess_table(path, names, crosswalk)
    manifest = _synthetic_manifest(path) if synthetic else {}
    if cutoff is None and manifest.get("cutoff"):
        cutoff = date.fromisoformat(manifest["cutoff"])
    if release_id is None:
        release_id = (f"synthetic:seed{manifest.get('seed')}-people{manifest.get('people')}"
                      f"-cutoff{manifest.get('cutoff')}" if manifest else _default_release_id(path))
    publisher = ("icetrack (SYNTHETIC release generated by `icetrack synth`; no real person)" if synthetic
                 else PUBLISHER_PROCESSED)
    edition = _edition(path, SOURCE_PROCESSED, publisher, synthetic=synthetic, url=None if synthetic else DDP_URL,
                       title=f"{table} ({kind})", note="SYNTHETIC" if synthetic else None)
    report = ReaderReport()
    sink = _Sink(table, report)
    plan = _Plan(path, table, names, crosswalk, sink, required=_required(table), where=table)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        done = 0
        try:
            source = pf.iter_batches(batch_size=chunk_rows) if kind == "parquet" else tab.to_batches(chunk_rows)
            for rb in source:
                rows = np.arange(done + 1, done + 1 + rb.num_rows, dtype=np.int64)
                done += rb.num_rows
                out = plan.convert(rb.columns, rows, release_id=release_id, edition_id=edition.edition_id,
                                   file_name=path.name, sheet=None, synthetic=synthetic, na_values=())
                if out is not None:
                    yield table, out
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise SourceError(path, f"{kind} data unreadable, truncated or corrupt: {_one_line(exc)}",
                              where=table, row=done + 1) from None
        sink.finish()

    return PersonRelease(edition, release_id, cutoff, batches(), report)


def _synthetic_manifest(path: Path) -> dict:
    m = path.parent / "synthetic_release.json"
    try:
        return json.loads(m.read_text(encoding="utf-8")) if m.is_file() else {}
    except (OSError, ValueError):
        return {}


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline()
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(path, f"cannot read the file, truncated or corrupt: {_one_line(exc)}") from None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8: invalid byte 0x{first[exc.start]:02x} at byte offset {exc.start} "
                                "(line 1)") from None
    return next(csv.reader([text]), [])


def _csv_stream(path: Path, header: list[str], block_size: int = 32 << 20):
    import pyarrow.csv as pacsv

    read_names = _fastexcel_names(header)  # unique names for the reader; printed names kept apart
    ropts = pacsv.ReadOptions(column_names=read_names, skip_rows=1, block_size=block_size, encoding="utf8")
    copts = pacsv.ConvertOptions(column_types={n: pa.string() for n in read_names}, null_values=[],
                                 strings_can_be_null=False, quoted_strings_can_be_null=False)
    popts = pacsv.ParseOptions(newlines_in_values=True)
    return pacsv.open_csv(path, read_options=ropts, convert_options=copts, parse_options=popts)


def _csv_error(path: Path, exc: BaseException, done: int, where: str | None) -> SourceError:
    msg = _one_line(exc)
    if "utf8" in msg.lower() or "utf-8" in msg.lower() or isinstance(exc, UnicodeDecodeError):
        try:
            bad = find_bad_utf8(path)
        except (OSError, EOFError, zlib.error):
            bad = None
        if bad:
            return SourceError(path, f"not UTF-8: invalid byte sequence at byte offset {bad[0]:,} (line {bad[1]:,})",
                               where=where, row=bad[1])
    if isinstance(exc, (EOFError, zlib.error)) or "gzip" in msg.lower() or "compress" in msg.lower():
        return SourceError(path, f"compressed stream truncated or corrupt after {done:,} rows: {msg}", where=where)
    return SourceError(path, f"CSV unreadable after {done:,} rows: {msg}", where=where, row=done + 2)


def _read_csv(path: Path, header: list[str], table: str | None, release_id: str | None, chunk_rows: int,
              cutoff: date | None, crosswalk: Crosswalk) -> PersonRelease:
    table = table or _guess_table(path, header, crosswalk)
    release_id = release_id or _default_release_id(path)
    edition = _edition(path, SOURCE_PROCESSED, PUBLISHER_PROCESSED, title=f"{table} (csv)", url=DDP_URL)
    report = ReaderReport()
    sink = _Sink(table, report)
    plan = _Plan(path, table, header, crosswalk, sink, required=_required(table), where=table)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        done = 0
        try:
            reader = _csv_stream(path, header)
            for rb in reader:
                for start, stop in _chunks(rb.num_rows, chunk_rows):
                    part = rb.slice(start, stop - start)
                    rows = np.arange(done + 2, done + 2 + part.num_rows, dtype=np.int64)  # header is row 1
                    done += part.num_rows
                    out = plan.convert(part.columns, rows, release_id=release_id, edition_id=edition.edition_id,
                                       file_name=path.name, sheet=None, synthetic=False, na_values=("NA",))
                    if out is not None:
                        yield table, out
        except SourceError:
            raise
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise _csv_error(path, exc, done, table) from None
        sink.finish()

    return PersonRelease(edition, release_id, cutoff, batches(), report)


# --- UWCHR joined file --------------------------------------------------------------------------------------


def read_ddp_joined(path: str | Path, release_id: str | None = None, chunk_rows: int = 200_000, *,
                    crosswalk: Crosswalk | None = None) -> PersonRelease:
    """Split a joined DDP file (``name.arrest``, ``name.detainer``, ... columns) into canonical tables.

    Every table gets the distinct rows it contributed: a row whose columns of that table are all blank/NA
    (no record of that table in the join) is left out, and repeated rows (one detainer joined to several
    stints) are kept once, at their first line. ``report.warnings`` says, per table, how many joined rows
    carried it and how many distinct rows remain. Columns of the join itself (no table suffix, e.g.
    ``possible_kww_violation``, ``date_diff.detainer_arrest``) belong to no table: they are listed under
    ``report.unknown_columns['(join)']``.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "no such file")
    crosswalk = crosswalk or load_crosswalk()
    header = _csv_header(path)
    uid = [i for i, h in enumerate(header) if h == "unique_identifier" or h.startswith("unique_identifier.")]
    groups: dict[str, list[int]] = defaultdict(list)
    join_level = []
    for i, h in enumerate(header):
        _, dot, suffix = h.rpartition(".")
        if dot and suffix in JOINED_SUFFIXES:
            groups[JOINED_SUFFIXES[suffix]].append(i)
        elif i not in uid:
            join_level.append(h)
    if not groups:
        raise SourceError(path, "no column carries a table suffix (.arrest, .detainer, .encounter, .detention)")
    if not uid:
        raise SourceError(path, "required column unique_identifier not found", where="joined")
    release_id = release_id or "uwchr-joined:" + re.sub(r"(\.[A-Za-z0-9]+)+$", "", path.name)
    edition = _edition(path, SOURCE_JOINED, PUBLISHER_JOINED, title="joined DDP tables (" + ", ".join(groups) + ")",
                       url=JOINED_URL)
    report = ReaderReport()
    if join_level:
        report.unknown_columns[JOIN_LEVEL] = list(join_level)
        report.warnings.append("columns of the join itself, in no table: " + ", ".join(join_level))
    plans: dict[str, tuple[_Plan, list[int], _Sink]] = {}
    for table, idx in groups.items():
        sink = _Sink(table, report)
        cols = [uid[0]] + idx
        printed = [header[i] for i in cols]
        lookup = ["unique_identifier"] + [header[i].rpartition(".")[0] for i in idx]
        plans[table] = (_Plan(path, table, printed, crosswalk, sink, required=_required(table), where=table,
                              lookup=lookup), cols, sink)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        parts, done = [], 0
        try:
            for rb in _csv_stream(path, header):
                parts.append(rb)
                done += rb.num_rows
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise _csv_error(path, exc, done, "joined") from None
        full = pa.Table.from_batches(parts, schema=parts[0].schema) if parts else None
        n = full.num_rows if full is not None else 0
        line = np.arange(2, n + 2, dtype=np.int64)
        for table, (plan, cols, sink) in plans.items():
            sub = full.select(cols) if full is not None else None
            if sub is None or n == 0:
                sink.finish()
                continue
            blank = None
            for k in range(1, len(cols)):
                col = sub.column(k)
                b = pc.or_(pc.equal(col, ""), pc.equal(col, "NA"))
                blank = b if blank is None else pc.and_(blank, b)
            present = pc.invert(blank)
            n_present = int(pc.sum(present).as_py() or 0)
            keyed = sub.rename_columns([f"c{k}" for k in range(len(cols))]).append_column(
                "__row", pa.array(np.arange(n, dtype=np.int64))).filter(present)
            firsts = keyed.group_by([f"c{k}" for k in range(len(cols))], use_threads=False).aggregate(
                [("__row", "min")]).column("__row_min").to_numpy()
            firsts = np.sort(firsts)
            report.warnings.append(f"{table}: {n_present:,} of {n:,} joined rows carry a record of this table; "
                                   f"{len(firsts):,} distinct rows kept")
            picked = sub.take(pa.array(firsts))
            for start, stop in _chunks(len(firsts), chunk_rows):
                part = picked.slice(start, stop - start)
                out = plan.convert([part.column(k) for k in range(len(cols))], line[firsts[start:stop]],
                                   release_id=release_id, edition_id=edition.edition_id, file_name=path.name,
                                   sheet=None, synthetic=False, na_values=("NA",))
                if out is not None:
                    yield table, out
            sink.finish()

    return PersonRelease(edition, release_id, None, batches(), report)


__all__ = [
    "CROSSWALK_PATH",
    "WITHHELD",
    "Crosswalk",
    "CrosswalkEntry",
    "build_map",
    "clean_text",
    "column_key",
    "is_redacted",
    "load_crosswalk",
    "normalise_text",
    "parse_timestamps",
    "read_ddp",
    "read_ddp_joined",
    "title_cutoff",
]
