"""How the columns of one header (a sheet, a CSV, a parquet file) become one canonical person-level table.

A :class:`Plan` maps each source column, through the crosswalk, to a canonical column, to ``extra`` (text,
key = the header as printed; listed in ``report.unknown_columns``) or to nothing: a withheld direct
identifier the crosswalk knows (its cells are only counted), or a column that looks like a direct identifier
by its name or, on its first batch with values, by the shape of its values (:mod:`.identifiers`; listed in
``report.dropped_identifiers``, never loaded - the release refuses the file unless its policy drops them).
It converts source arrays batch by batch, and a :class:`Sink` accumulates what the
:class:`~icetrack.domain.person_schema.ReaderReport` says about the table.

Identifiers are text, always: numeric cells, float/int columns, scientific notation (``1.23457E+18``) or
19-digit values truncated to 15 significant digits are refused with a SourceError (one line: file,
sheet/table, row, problem). ICE's "no date" placeholder (01/01/0001) reads as missing; any other event date
outside ``EARLIEST_RECORD_DATE`` .. ``latest_plausible_date()`` (:mod:`icetrack.domain.plausible`) is read as
missing too and becomes the file's ``report.date_refusal`` (raised unless the policy allows implausible values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import TABLES, ReaderReport
from icetrack.domain.plausible import EARLIEST_RECORD_DATE, date_problem, latest_plausible_date
from icetrack.sources.canonical.crosswalk import WITHHELD, Crosswalk
from icetrack.sources.canonical.identifiers import header_rule, value_rule
from icetrack.sources.canonical.values import TS, as_array, build_map, clean_text, first_true, parse_timestamps, to_text

PLACEHOLDER_END = datetime(1, 1, 2)  # ICE prints 01/01/0001 (any time that day) for "no date"
EARLIEST = datetime.combine(EARLIEST_RECORD_DATE, time())


@dataclass
class PlanColumn:
    index: int  # position among the source arrays
    printed: str  # source header as printed (the key in extra / report)
    kind: str  # "canonical" | "extra" | "withheld" | "identifier" (looks like a direct identifier: dropped)
    target: str  # canonical column, or the extra key
    shape_checked: bool = False  # extra: the shape of its values was examined (on its first batch with values)


class Sink:
    """Per (file, table) accumulation into the ReaderReport while batches stream."""

    def __init__(self, table: str, report: ReaderReport):
        self.table = table
        self.report = report
        self.nonnull: dict[str, int] = defaultdict(int)
        self.columns: list[str] = []
        self.withheld_values: dict[str, int] = defaultdict(int)
        self.placeholder_dates: dict[str, int] = defaultdict(int)
        self.implausible_dates: dict[str, int] = defaultdict(int)
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

    def identifier(self, printed: str, target: str, rule: str) -> None:
        """A column that looks like a direct identifier: recorded by name and rule, out of every other list."""
        self.report.dropped_identifiers.setdefault(printed, rule)
        unknown = self.report.unknown_columns.get(self.table, [])
        if printed in unknown:
            unknown.remove(printed)
            if not unknown:
                del self.report.unknown_columns[self.table]
        self.nonnull.pop(target, None)
        if target in self.columns:
            self.columns.remove(target)

    def finish(self) -> None:
        self.report.all_redacted_or_blank[self.table] = [c for c in self.columns if self.nonnull[c] == 0]
        if self.empty_rows:
            self.report.warnings.append(f"{self.table}: {self.empty_rows:,} empty row(s) skipped")
        for name, n in self.placeholder_dates.items():
            self.report.warnings.append(f"{self.table}: {n:,} placeholder date(s) 01/01/0001 (ICE's 'no date') "
                                        f"in '{name}' read as missing")
        for name, n in self.implausible_dates.items():
            self.report.warnings.append(
                f"{self.table}: {n:,} date(s) outside {EARLIEST_RECORD_DATE.isoformat()} .. "
                f"{latest_plausible_date().isoformat()} in '{name}' read as missing (--allow-implausible)")
        for name, n in self.withheld_values.items():
            if n:
                self.report.warnings.append(
                    f"{self.table}: {n:,} unredacted value(s) in direct-identifier column '{name}' were not loaded")


def _plan_columns(table: str, printed: Sequence[str], lookup: Sequence[str], crosswalk: Crosswalk,
                  sink: Sink) -> tuple[list[PlanColumn], list[str]]:
    """(columns in source order, unrecognised header names). When several headers map to one canonical
    column, the first non-fallback one is used and the others go to extra."""
    cols: list[PlanColumn] = []
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
            # another sheet of the file may have shown it by its values already
            rule = sink.report.dropped_identifiers.get(name) or header_rule(key_name)
            if rule:
                cols.append(PlanColumn(i, name, "identifier", name))
                sink.identifier(name, name, rule)
            else:
                cols.append(PlanColumn(i, name, "extra", name))
        elif entry.canonical_column == WITHHELD:
            cols.append(PlanColumn(i, name, "withheld", name))
        else:
            candidates[entry.canonical_column].append((entry.fallback, i, name))
    for canonical, cands in candidates.items():
        cands.sort()
        _, i, name = cands[0]
        cols.append(PlanColumn(i, name, "canonical", canonical))
        for _, j, other in cands[1:]:
            cols.append(PlanColumn(j, other, "extra", other))
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
    return cols, unknown_names


def _present(arr: pa.Array, na_values: Sequence[str]) -> tuple[pa.Array, pa.Array | None]:
    """(non-blank mask, redacted mask or None) of a column that is not loaded: its rows still count as records."""
    if pa.types.is_string(arr.type):
        clean, red = clean_text(arr, na_values, identifier=True)
        return clean.is_valid(), red
    return arr.is_valid(), None


class Plan:
    """How the columns of one header become one canonical table (see the module doc)."""

    def __init__(self, path: Path, table: str, printed: Sequence[str], crosswalk: Crosswalk, sink: Sink, *,
                 required: Sequence[str], where: str | None = None, lookup: Sequence[str] | None = None):
        self.path, self.table, self.where, self.sink = path, table, where, sink
        self.schema = TABLES[table]
        lookup = list(lookup) if lookup is not None else list(printed)
        self.cols, unknown_names = _plan_columns(table, printed, lookup, crosswalk, sink)
        mapped = {c.target for c in self.cols if c.kind == "canonical"}
        missing = [r for r in required if r not in mapped]
        if missing:
            unk = ", ".join(repr(u) for u in unknown_names[:8]) or "none"
            raise SourceError(path, f"required column(s) {', '.join(missing)} not found in the header of the "
                                    f"{table} table (unrecognised headers: {unk})", where=where)
        for c in self.cols:
            if c.kind == "identifier":
                continue
            if c.kind != "canonical":
                sink.unknown(c.printed)
            sink.see(c.target)
        self.latest = datetime.combine(latest_plausible_date() + timedelta(days=1), time())  # exclusive

    def error(self, problem: str, row: int | None = None) -> SourceError:
        return SourceError(self.path, problem, where=self.where, row=row)

    # -- conversion -----------------------------------------------------------------------------------------

    def convert(self, arrays: Sequence, source_rows: np.ndarray, *, release_id: str, edition_id: str,
                file_name: str, sheet: str | None, synthetic: bool, na_values: Sequence[str] = (),
                constants: dict[str, object] | None = None) -> pa.RecordBatch | None:
        """Canonical batch from source arrays aligned with the header (None when every row was empty).
        ``constants`` fills canonical columns the source does not carry (e.g. removal_type)."""
        n = len(source_rows)
        out, extra, content = self._source_values(arrays, source_rows, na_values)
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
        provenance = {"release_id": release_id, "edition_id": edition_id, "source_file": file_name}
        arrays_out = []
        for f in self.schema:
            if f.name in provenance:
                arrays_out.append(pa.repeat(pa.scalar(provenance[f.name], pa.string()), n))
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

    def _source_values(self, arrays: Sequence, source_rows: np.ndarray, na_values: Sequence[str]):
        """(canonical arrays by name, extra (key, array) pairs, mask of rows with any content or None)."""
        out: dict[str, pa.Array] = {}
        extra: list[tuple[str, pa.Array]] = []
        content = None
        for c in self.cols:
            arr = as_array(arrays[c.index])
            if c.kind == "withheld":
                valid, red = self._count_withheld(c, arr, na_values)
            elif c.kind == "identifier":
                valid, red = _present(arr, na_values)
            else:
                value, red = self._column_value(c, arr, source_rows, na_values)
                valid = value.is_valid()
                if c.kind == "canonical":
                    out[c.target] = value
                elif not self._shows_identifiers(c, value):
                    extra.append((c.target, value))
            m = valid if red is None else pc.or_(valid, red)
            content = m if content is None else pc.or_(content, m)
        return out, extra, content

    def _shows_identifiers(self, c: PlanColumn, value: pa.Array) -> bool:
        """Whether an extra column's values look like direct identifiers, judged once, on its first batch with
        values (earlier batches had none of its values to leak); it is then dropped from this batch on."""
        if c.kind == "extra" and not c.shape_checked:
            rule = self.sink.report.dropped_identifiers.get(c.printed)  # shown by another sheet's values
            if rule is None and value.null_count < len(value):
                c.shape_checked = True
                rule = value_rule(c.printed, value)
            if rule:
                c.kind = "identifier"
                self.sink.identifier(c.printed, c.target, rule)
        return c.kind == "identifier"

    def _count_withheld(self, c: PlanColumn, arr: pa.Array, na_values: Sequence[str]):
        """(valid mask, redacted mask or None) of a direct-identifier column, whose values are only counted."""
        if pa.types.is_string(arr.type):
            clean, red = clean_text(arr, na_values)
            self.sink.redacted(c.printed, int(pc.sum(red).as_py() or 0) if red is not None else 0)
            self.sink.withheld_values[c.printed] += len(clean) - clean.null_count
            return clean.is_valid(), red
        self.sink.withheld_values[c.printed] += len(arr) - arr.null_count
        return arr.is_valid(), None

    def _column_value(self, c: PlanColumn, arr: pa.Array, source_rows: np.ndarray, na_values: Sequence[str]):
        """(typed value array, redacted mask or None) of a canonical or extra column; dates outside the
        plausible range become null and are counted (see :meth:`_plausible_dates`)."""
        field_type = self.schema.field(c.target).type if c.kind == "canonical" else pa.string()
        value, red = self._typed(c, arr, field_type, source_rows, na_values)
        if pa.types.is_timestamp(field_type) and value.null_count < len(value):
            value = self._plausible_dates(c, value, source_rows)
        if red is not None:
            self.sink.redacted(c.target, int(pc.sum(red).as_py() or 0))
        return value, red

    def _plausible_dates(self, c: PlanColumn, value: pa.Array, source_rows: np.ndarray) -> pa.Array:
        """ICE's "no date" placeholder (01/01/0001) reads as missing, counted. Any other date outside the
        plausible range (9999-12-31 would become the release's inferred cut-off and keep every open stay
        censored for millennia) reads as missing too, counted, and the first one becomes the file's refusal."""
        placeholder = pc.fill_null(pc.less(value, pa.scalar(PLACEHOLDER_END, TS)), False)
        outside = pc.fill_null(pc.or_(pc.less(value, pa.scalar(EARLIEST, TS)),
                                      pc.greater_equal(value, pa.scalar(self.latest, TS))), False)
        outside = pc.and_not(outside, placeholder)
        n_placeholder = int(pc.sum(placeholder).as_py() or 0)
        n_outside = int(pc.sum(outside).as_py() or 0)
        if n_placeholder:
            self.sink.placeholder_dates[c.printed] += n_placeholder
        if n_outside:
            self.sink.implausible_dates[c.printed] += n_outside
            key = f"{self.table}.{c.target}"
            report = self.sink.report
            report.implausible_dates[key] = report.implausible_dates.get(key, 0) + n_outside
            i = first_true(outside)
            first = report.date_refusal
            # the first offending row of the file (or sheet), whichever column it is in
            if first is None or (first.where == self.where and int(source_rows[i]) < (first.row or 0)):
                try:
                    problem = date_problem(value[i].as_py().date(), "date", earliest=EARLIEST_RECORD_DATE)
                except (ValueError, OverflowError):  # beyond Python's year 9999
                    problem = f"date {value.slice(i, 1).cast(pa.string())[0]} is beyond the year 9999"
                report.date_refusal = self.error(f"column '{c.printed}': {problem}; load it anyway with "
                                                 "--allow-implausible (such dates are then read as missing)",
                                                 int(source_rows[i]))
        if n_placeholder or n_outside:
            value = pc.if_else(pc.or_(placeholder, outside), pa.scalar(None, TS), value)
        return value

    def _typed(self, c: PlanColumn, arr: pa.Array, ftype: pa.DataType, source_rows: np.ndarray, na_values):
        """(value array of ftype, redacted mask or None) for one source column."""
        is_id = c.kind == "canonical" and c.target == "unique_identifier"
        where_col = f"column '{c.printed}'"
        if pa.types.is_null(arr.type):
            return pa.nulls(len(arr), ftype), None
        if is_id and not pa.types.is_string(arr.type):
            kind = ("numbers" if (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)
                                  or pa.types.is_decimal(arr.type)) else str(arr.type))
            first = first_true(arr.is_valid()) if arr.null_count < len(arr) else 0
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
            return to_text(arr), None
        if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
            return self._numbers(arr, c, ftype, source_rows), None
        raise self.error(f"{where_col} should hold numbers but holds {arr.type}")

    def _numbers(self, arr: pa.Array, c: PlanColumn, ftype: pa.DataType, source_rows: np.ndarray) -> pa.Array:
        if pa.types.is_string(arr.type):
            stripped = pc.replace_substring_regex(arr, r"[$,\s]", "")
            try:
                num = stripped.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                ok = pc.match_substring_regex(stripped, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
                i = first_true(pc.and_(stripped.is_valid(), pc.invert(pc.fill_null(ok, True))))
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

    def _check_identifiers(self, ids: pa.Array, c: PlanColumn, source_rows: np.ndarray) -> None:
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
            i = int(pos[first_true(sci)])
            raise self.error(f"identifier {ids[i].as_py()!r} in column '{c.printed}' is a number in scientific "
                             "notation: the identifiers were stored as numbers and truncated to 15 significant "
                             "digits (collisions); re-export them as text", int(source_rows[i]))
        dec = pc.match_substring(sub, ".")
        if pc.any(dec).as_py():
            i = int(pos[first_true(dec)])
            raise self.error(f"identifier {ids[i].as_py()!r} in column '{c.printed}' looks like a stored number "
                             "(decimal point): identifiers must be text", int(source_rows[i]))
        long_digits = pc.match_substring_regex(sub, r"^\d{16,}$")
        n_long = int(pc.sum(long_digits).as_py() or 0)
        if n_long:
            trunc = pc.and_(long_digits, pc.match_substring_regex(sub, r"^\d{1,15}0+$"))
            n_trunc = int(pc.sum(trunc).as_py() or 0)
            if n_trunc * 2 > n_long:
                i = int(pos[first_true(trunc)])
                raise self.error(f"{n_trunc:,} of {n_long:,} long numeric identifiers in column '{c.printed}' "
                                 f"(e.g. {ids[i].as_py()!r}) end in zeros after at most 15 significant digits: "
                                 "they were stored as numbers and truncated (collisions); re-export as text",
                                 int(source_rows[i]))
