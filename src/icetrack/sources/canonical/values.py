"""Value cleaning for person-level records, vectorised over Arrow arrays.

Surrounding whitespace is trimmed and inner runs collapsed (``Not  Applicable`` -> ``Not Applicable``);
blank cells are null; a FOIA redaction marker - any ``(b)(n)...`` form, e.g. ``(b)(6), (b)(7)c)``,
``(b)(7)(E )``, ``b(6), b(7)c`` - makes the cell null and is counted. Dates: ISO, ``M/D/YYYY`` (padded or
not), with or without a time; an impossible date (2/30) is an error, not rolled over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TS = pa.timestamp("us")

# A FOIA exemption marker: (b)(6), b(6), (b) (7)(C ), ... at the start of the value or after a separator
# (so a statute such as '241(b)(3)' inside a value is not taken for one).
REDACTION_PATTERN = r"(?i)(?:^|[\s,;/&])\(?\s*b\s*\)?\s*\(\s*[1-9]\s*\)"
_REDACTION_RE = re.compile(REDACTION_PATTERN[4:], re.IGNORECASE)
_WS_RUN = r"\s{2,}|[\t\r\n\v\f\x{00A0}]"


def is_redacted(value: object) -> bool:
    """True when ``value`` carries a FOIA redaction marker (any ``(b)(n)`` spelling)."""
    return isinstance(value, str) and _REDACTION_RE.search(value) is not None


def as_array(a) -> pa.Array:
    """One plain array (string, not large_string/view; dictionary decoded) from an array or chunked array."""
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
    arr = as_array(arr)
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
    values = as_array(values)
    n = len(values)
    if values.null_count == n:
        return pa.nulls(n, TS)
    enc = pc.dictionary_encode(values)
    dic = enc.dictionary
    result, pending = _parse_known_formats(dic)
    if pc.any(pending).as_py():
        result, pending = _parse_iso_fractional(dic, result, pending)
    if pc.any(pending).as_py():
        result = _parse_one_by_one(enc, result, pending, on_error)
    return result.take(enc.indices)


def _parse_known_formats(dic: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(timestamps, still-pending mask) after trying each format; a value is taken only when formatting it
    back gives the same text (so 2/30 is not rolled over into March)."""
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
    return result, pending


def _parse_iso_fractional(dic: pa.Array, result: pa.Array, pending: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ISO with fractional seconds ('2024-04-26 12:47:55.910'): Arrow's ISO-8601 cast, all at once."""
    iso = pc.and_(pending, pc.fill_null(pc.match_substring_regex(
        dic, r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d{1,9}$"), False))
    if pc.any(iso).as_py():
        try:
            cast = pc.if_else(iso, dic, pa.scalar(None, pa.string())).cast(TS)
            result = pc.coalesce(result, cast)
            pending = pc.and_(pending, pc.invert(iso))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return result, pending


def _parse_one_by_one(enc: pa.DictionaryArray, result: pa.Array, pending: pa.Array, on_error) -> pa.Array:
    """The values left: Python's ISO parser, one by one; the first one it cannot read goes to ``on_error``."""
    dic = enc.dictionary
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
    return pc.coalesce(result, patch)


def first_true(mask: pa.Array) -> int:
    """Index of the first true value of a boolean array (nulls are false)."""
    return int(np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))[0])


def to_text(arr: pa.Array) -> pa.Array:
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
