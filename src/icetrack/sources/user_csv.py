"""Bring-your-own figures: two simple, strictly validated CSV formats.

**Observations** (one published figure a row) - header must contain:

    date, measure, value, unit, source_url

optional columns: ``period_end`` (last day of a multi-day period; default = ``date``), ``grain``
(day|week|month|fiscal_year|period; inferred when absent), ``publisher``, ``published_on``, ``as_of``,
``note``, ``concept`` and ``definition`` (for a measure the catalogue does not know), and any number of
dimension columns named ``dim_<name>`` (e.g. ``dim_aor``). Dates are ISO ``YYYY-MM-DD``; values are
plain non-negative numbers (no thousands separators); ``source_url`` is one or more http(s) URLs separated
by spaces.

**Targets** (announced goals, quotas and reported baselines) - header must contain:

    target_id, kind, label, concept, scope, value_low, value_high, unit, source_url

optional: ``announced_on``, ``effective_from``, ``effective_to``, ``date_precision`` (day|month: "month" when
the record gives only the month of ``effective_from``), ``track`` (targets that replace one another; default
the target_id), ``reported_by``, ``note``. ``kind`` is target|baseline, ``scope`` national|field_office,
``unit`` a rate per day ("arrests per day"), a rate per year ("removals per year") or a level ("beds",
"persons") - see :mod:`icetrack.domain.targets`. ``effective_to`` may not be before ``effective_from``, and
targets of one track may not be in force on the same day.

Any other column, a bad date, a negative/non-numeric value, a missing column or the same key twice with
different values is an error: the file is refused whole with a one-line message naming file, row and
problem (the first problem, and how many more there are).
"""

from __future__ import annotations

import csv
import io
import math
import re
from calendar import monthrange
from datetime import date
from pathlib import Path
from typing import Any

from icetrack.domain.catalogue import CATALOGUE, CONCEPTS, value_problem_for
from icetrack.domain.targets import DATE_PRECISIONS, TargetWindow, overlap_problem, unit_problem, window_problem
from icetrack.domain.edition import EditionInfo, ParsedSource, SourceError, file_digest, observations_table
from icetrack.sources.files import MAX_LINE_BYTES, bounded_lines, check_file
from icetrack.domain.plausible import (
    DEFAULT_POLICY,
    EARLIEST_FIGURE_DATE,
    MAX_LABEL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    IngestPolicy,
    date_problem,
)

PARSER_VERSION = "1"
SOURCE = "user_csv"

OBS_REQUIRED = ("date", "measure", "value", "unit", "source_url")
OBS_OPTIONAL = ("period_end", "grain", "publisher", "published_on", "as_of", "note", "concept", "definition")
TARGET_REQUIRED = ("target_id", "kind", "label", "concept", "scope", "value_low", "value_high", "unit", "source_url")
TARGET_OPTIONAL = ("announced_on", "effective_from", "effective_to", "date_precision", "track", "reported_by", "note")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_URL_RE = re.compile(r"^https?://\S+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
MAX_BYTES = 50 * 1024 * 1024  # a hand-made CSV of figures is small; refuse anything that is clearly not one
MAX_FIELD_CHARS = 131_072  # the csv module's default field limit, kept as ours whatever another library sets


# Longest text a cell may hold, by column: names are identifiers, labels are one line, notes a paragraph.
_TEXT_LIMITS = {"measure": MAX_NAME_LENGTH, "target_id": MAX_NAME_LENGTH, "note": MAX_TEXT_LENGTH,
                "definition": MAX_TEXT_LENGTH, "source_url": MAX_TEXT_LENGTH}


class _Problems:
    """Collects row problems so the one-line error can say how many there were. Values outside the plausible
    range (:mod:`icetrack.domain.plausible`) are problems too, unless the policy allows them: then they are
    kept as overrides, which the edition records."""

    def __init__(self, path: Path, policy: IngestPolicy = DEFAULT_POLICY):
        self.path = path
        self.policy = policy
        self.items: list[tuple[int | None, str]] = []
        self.overrides: list[str] = []

    def add(self, row: int | None, problem: str) -> None:
        self.items.append((row, problem))

    def implausible(self, row: int | None, problem: str) -> None:
        if self.policy.allow_implausible:
            self.overrides.append(f"row {row}: {problem}" if row is not None else problem)
        else:
            self.add(row, problem + " (load it anyway with --allow-implausible)")

    def recorded_overrides(self) -> tuple[str, ...]:
        """What the edition records: each override allowed, the first few in full."""
        if not self.overrides:
            return ()
        shown = self.overrides[:10]
        more = len(self.overrides) - len(shown)
        return (f"allow_implausible: {len(self.overrides)} value(s) outside the plausible range loaded: "
                + "; ".join(shown) + (f"; and {more} more" if more else ""),)

    def raise_if_any(self) -> None:
        if self.items:
            row, problem = self.items[0]
            more = len(self.items) - 1
            suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            raise SourceError(self.path, problem + suffix, row=row)


def is_targets_header(fields: list[str]) -> bool:
    return "target_id" in fields and "value_low" in fields


def read_header(path: Path) -> list[str]:
    """The header cells: the first line only (at most MAX_LINE_BYTES), so sniffing a large person-level CSV
    reads one line of it."""
    check_file(path)
    with open(path, "rb") as fh:
        first = next(bounded_lines(fh, path), (1, b""))[1]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(path, f"not UTF-8 (byte 0x{first[e.start]:02x} at offset {e.start})", row=1) from None
    try:
        return [c.strip() for c in next(csv.reader([text]), [])]
    except csv.Error as e:
        raise SourceError(path, f"malformed CSV header: {e}", row=1) from None


def _read_text(path: Path) -> str:
    check_file(path, max_bytes=MAX_BYTES, what="figures CSV")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise SourceError(path, "binary data (NUL bytes); expected a UTF-8 CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(path, f"not UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})") from None


# A target may be set to end (or start) in the future: a goal for the next fiscal years. Only dates within a
# century of the earliest figure can be dates of anything icetrack compares.
LATEST_TARGET_DATE = date(2100, 12, 31)


def _parse_date(value: str, column: str, row: int | None, problems: _Problems, *, required: bool,
                future_ok: bool = False) -> date | None:
    value = value.strip()
    if not value:
        if required:
            problems.add(row, f"{column} is empty")
        return None
    if not _DATE_RE.match(value):
        problems.add(row, f"{column} '{value[:40]}' is not a date YYYY-MM-DD")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.add(row, f"{column} '{value}' is not a real calendar date")
        return None
    if future_ok:
        problem = (f"{column} {day} is outside {EARLIEST_FIGURE_DATE}..{LATEST_TARGET_DATE}"
                   if not EARLIEST_FIGURE_DATE <= day <= LATEST_TARGET_DATE else None)
    else:
        problem = date_problem(day, column, earliest=EARLIEST_FIGURE_DATE)
    if problem:
        problems.implausible(row, problem)
    return day


def _check_value(value: float | None, measure: str, unit: str, column: str, row: int, problems: _Problems) -> None:
    problem = value_problem_for(measure, value, unit) if value is not None else None
    if problem:
        problems.implausible(row, f"{column} {problem}")


def _check_lengths(r: dict[str, str], row: int, problems: _Problems) -> bool:
    """Refuse a cell longer than its column allows (a name is an identifier, a label one line)."""
    for column, text in r.items():
        if column == "__line__":
            continue
        limit = _TEXT_LIMITS.get(column, MAX_LABEL_LENGTH)
        if len(column.removeprefix("dim_")) > MAX_NAME_LENGTH:  # a dimension's name, like a measure's
            problems.add(row, f"column name '{column[:40]}...' is longer than {MAX_NAME_LENGTH} characters")
            return False
        if len(text) > limit:
            problems.add(row, f"{column} is {len(text):,} characters long; at most {limit:,}")
            return False
    return True


def _parse_number(value: str, column: str, row: int, problems: _Problems) -> float | None:
    value = value.strip()
    if not _NUMBER_RE.match(value):
        hint = " (write numbers without thousands separators)" if re.match(r"^\d{1,3}(,\d{3})+$", value) else ""
        problems.add(row, f"{column} '{value}' is not a number{hint}")
        return None
    number = float(value)
    if not math.isfinite(number):
        problems.add(row, f"{column} '{value[:40]}' is not finite")
        return None
    return number


def _check_urls(value: str, row: int, problems: _Problems) -> str | None:
    urls = value.split()
    if not urls:
        problems.add(row, "source_url is empty: every figure needs its source")
        return None
    bad = [u for u in urls if not _URL_RE.match(u)]
    if bad:
        problems.add(row, f"source_url '{bad[0]}' is not an http(s) URL")
        return None
    return " ".join(urls)


def _infer_grain(start: date, end: date) -> str:
    if start == end:
        return "day"
    if start.day == 1 and end == date(start.year, start.month, monthrange(start.year, start.month)[1]):
        return "month"
    if (start.month, start.day) == (10, 1) and end == date(start.year + 1, 9, 30):
        return "fiscal_year"
    if (end - start).days == 6:
        return "week"
    return "period"


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError(path, "empty file: no header row") from None
    except csv.Error as e:
        raise SourceError(path, f"malformed CSV header: {e}", row=1) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise SourceError(path, f"column '{dup}' appears twice in the header", row=1)
    rows = []
    try:
        records = list(enumerate(reader, start=2))
    except csv.Error as e:  # a NUL byte, a field over the csv module's field limit...
        raise SourceError(path, f"malformed CSV: {e}", row=reader.line_num) from None
    for lineno, cells in records:
        # Our own limit, not only the csv module's: that one is process-wide and other libraries raise it.
        if any(len(c) > MAX_FIELD_CHARS for c in cells):
            raise SourceError(path, f"malformed CSV: field larger than field limit ({MAX_FIELD_CHARS:,} characters)",
                              row=lineno)
        if sum(map(len, cells)) > MAX_LINE_BYTES:
            raise SourceError(path, f"row is longer than {MAX_LINE_BYTES:,} characters", row=lineno)
        if not any(c.strip() for c in cells):
            continue  # blank lines carry no figure
        if len(cells) != len(header):
            raise SourceError(path, f"{len(cells)} cells but the header has {len(header)} columns", row=lineno)
        row = dict(zip(header, cells))
        row["__line__"] = str(lineno)
        rows.append(row)
    if not rows:
        raise SourceError(path, "no data rows under the header")
    return header, rows


def _check_columns(path: Path, header: list[str], required: tuple, optional: tuple, allow_dims: bool) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(path, f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
                          row=1)
    unknown = [c for c in header if c not in required and c not in optional
               and not (allow_dims and c.startswith("dim_") and _NAME_RE.match(c[4:] or "-"))]
    if unknown:
        raise SourceError(path, f"unknown column '{unknown[0]}' (allowed: {', '.join(required + optional)}"
                                f"{', dim_<name>' if allow_dims else ''})", row=1)


def _uniform(rows: list[dict[str, str]], column: str, path: Path) -> str | None:
    values = {r.get(column, "").strip() for r in rows} - {""}
    if len(values) > 1:
        raise SourceError(path, f"column '{column}' must hold one value for the whole file (one edition); "
                                f"found {len(values)}: {', '.join(sorted(values)[:3])}")
    return values.pop() if values else None


def _measure_and_unit(r: dict[str, str], line: int, problems: _Problems,
                      new_measures: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    """The row's measure and unit when they are valid (a measure the catalogue does not know is noted with its
    concept and definition); None after recording the problem."""
    measure = r["measure"].strip()
    unit = " ".join(r["unit"].split())
    if not _NAME_RE.match(measure):
        problems.add(line, f"measure '{measure}' must be lower_snake_case")
        return None
    if not unit:
        problems.add(line, "unit is empty")
        return None
    known = CATALOGUE.get(measure)
    if known and unit != known.unit:
        problems.add(line, f"unit '{unit}' for {measure}; the catalogue unit is '{known.unit}'")
        return None
    concept = r.get("concept", "").strip() or None
    if concept and concept not in CONCEPTS:
        problems.add(line, f"concept '{concept}' is not one of {', '.join(CONCEPTS)}")
        return None
    if not known:
        new_measures.setdefault(measure, {"measure": measure, "concept": concept,
                                          "definition": r.get("definition", "").strip() or None})
    return measure, unit


def parse_observations_csv(path: str | Path, *, source: str = SOURCE, publisher: str | None = None,
                           note: str | None = None, policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    path = Path(path)
    header, rows = _rows(path)
    if is_targets_header(header):
        raise SourceError(path, "this is a targets file; use parse_targets_csv")
    _check_columns(path, header, OBS_REQUIRED, OBS_OPTIONAL, allow_dims=True)
    problems = _Problems(path, policy)
    dim_columns = [c for c in header if c.startswith("dim_")]
    out: list[dict[str, Any]] = []
    seen: dict[tuple, tuple[float, int]] = {}
    new_measures: dict[str, dict[str, Any]] = {}
    for r in rows:
        line = int(r["__line__"])
        if not _check_lengths(r, line, problems):
            continue
        start = _parse_date(r["date"], "date", line, problems, required=True)
        end = _parse_date(r.get("period_end", ""), "period_end", line, problems, required=False) or start
        value = _parse_number(r["value"], "value", line, problems)
        url = _check_urls(r["source_url"], line, problems)
        measure_unit = _measure_and_unit(r, line, problems, new_measures)
        if measure_unit is None:
            continue
        measure, unit = measure_unit
        _check_value(value, measure, unit, "value", line, problems)
        if start and end and end < start:
            problems.add(line, f"period_end {end} is before date {start}")
            continue
        grain = r.get("grain", "").strip() or (_infer_grain(start, end) if start and end else None)
        if grain and grain not in ("day", "week", "month", "fiscal_year", "period"):
            problems.add(line, f"grain '{grain}' is not one of day, week, month, fiscal_year, period")
            continue
        dims = {c[4:]: " ".join(r[c].split()) for c in dim_columns if r[c].strip()}
        if None in (start, end, value, url):
            continue
        key = (measure, tuple(sorted(dims.items())), start, end)
        if key in seen:
            previous, prev_line = seen[key]
            if previous != value:
                problems.add(line, f"duplicate key {measure} {start}"
                                   f"{' ' + str(dims) if dims else ''} with a different value "
                                   f"({value:g} here, {previous:g} on row {prev_line})")
            continue  # an identical repeat adds nothing
        seen[key] = (value, line)
        out.append({"measure": measure, "period_start": start, "period_end": end, "grain": grain, "dims": dims,
                    "value": value, "unit": unit, "source_url": url, "note": r.get("note", "").strip() or None})
    published = _parse_date(_uniform(rows, "published_on", path) or "", "published_on", None, problems,
                            required=False)
    as_of = _parse_date(_uniform(rows, "as_of", path) or "", "as_of", None, problems, required=False)
    problems.raise_if_any()
    sha, size = file_digest(path)
    urls = {o["source_url"] for o in out}
    edition = EditionInfo(
        source=source,
        publisher=publisher or _uniform(rows, "publisher", path) or "user-supplied (see each figure's source_url)",
        file_name=path.name,
        sha256=sha,
        size_bytes=size,
        parser_version=PARSER_VERSION,
        original_url=urls.pop() if len(urls) == 1 else None,
        published_on=published,
        as_of=as_of,
        title=f"figures from {path.name}",
        note=note,
        overrides=problems.recorded_overrides(),
    )
    return ParsedSource(edition, observations_table(out), measure_definitions=list(new_measures.values()))


def parse_targets_csv(path: str | Path, *, source: str = SOURCE, note: str | None = None,
                      policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    path = Path(path)
    header, rows = _rows(path)
    _check_columns(path, header, TARGET_REQUIRED, TARGET_OPTIONAL, allow_dims=False)
    problems = _Problems(path, policy)
    targets: list[dict[str, Any]] = []
    ids: set[str] = set()
    for r in rows:
        line = int(r["__line__"])
        if not _check_lengths(r, line, problems):
            continue
        tid = r["target_id"].strip()
        if not _NAME_RE.match(tid):
            problems.add(line, f"target_id '{tid}' must be lower_snake_case")
            continue
        if tid in ids:
            problems.add(line, f"target_id '{tid}' appears twice")
            continue
        ids.add(tid)
        kind, scope, concept = r["kind"].strip(), r["scope"].strip(), r["concept"].strip()
        if kind not in ("target", "baseline"):
            problems.add(line, f"kind '{kind}' must be target or baseline")
        if scope not in ("national", "field_office"):
            problems.add(line, f"scope '{scope}' must be national or field_office")
        if concept not in CONCEPTS:
            problems.add(line, f"concept '{concept}' is not one of {', '.join(CONCEPTS)}")
        unit = " ".join(r["unit"].split())
        if unit_problem(unit):
            problems.add(line, unit_problem(unit))
        low = _parse_number(r["value_low"], "value_low", line, problems)
        high = _parse_number(r["value_high"], "value_high", line, problems)
        _check_value(low, "", unit, "value_low", line, problems)
        _check_value(high, "", unit, "value_high", line, problems)
        if low is not None and high is not None and high < low:
            problems.add(line, f"value_high {high:g} is below value_low {low:g}")
        url = _check_urls(r["source_url"], line, problems)
        label = r["label"].strip()
        if not label:
            problems.add(line, "label is empty")
        announced = _parse_date(r.get("announced_on", ""), "announced_on", line, problems, required=False)
        effective = _parse_date(r.get("effective_from", ""), "effective_from", line, problems, required=False,
                                future_ok=True)
        effective_to = _parse_date(r.get("effective_to", ""), "effective_to", line, problems, required=False,
                                   future_ok=True)
        if window_problem(effective, effective_to):
            problems.add(line, window_problem(effective, effective_to))
        precision = r.get("date_precision", "").strip() or "day"
        if precision not in DATE_PRECISIONS:
            problems.add(line, f"date_precision '{precision}' must be day or month")
        elif precision == "month" and effective is not None and effective.day != 1:
            problems.add(line, f"date_precision month needs effective_from on the first of a month, not {effective}")
        track = r.get("track", "").strip() or tid
        if not _NAME_RE.match(track):
            problems.add(line, f"track '{track}' must be lower_snake_case")
        targets.append({"target_id": tid, "kind": kind, "label": label, "concept": concept, "scope": scope,
                        "value_low": low, "value_high": high, "unit": unit, "announced_on": announced,
                        "effective_from": effective, "reported_by": r.get("reported_by", "").strip() or None,
                        "source_url": url, "note": r.get("note", "").strip() or None,
                        "effective_to": effective_to, "date_precision": precision, "track": track,
                        "__line__": line})
    overlap = overlap_problem([TargetWindow(t["target_id"], t["track"], t["kind"], t["concept"], t["scope"], t["unit"],
                                            0.0, 0.0, t["effective_from"], t["effective_to"]) for t in targets])
    if overlap:
        problems.add(None, overlap)
    for t in targets:
        t.pop("__line__", None)
    problems.raise_if_any()
    sha, size = file_digest(path)
    edition = EditionInfo(source=source, publisher="press reports and official statements (see each target's "
                          "source_url)", file_name=path.name, sha256=sha, size_bytes=size,
                          parser_version=PARSER_VERSION, title=f"targets from {path.name}", note=note,
                          overrides=problems.recorded_overrides())
    return ParsedSource(edition, observations_table([]), targets=targets)


def parse_csv(path: str | Path, *, source: str = SOURCE, note: str | None = None,
              policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    """Either format, told apart by the header."""
    path = Path(path)
    if is_targets_header(read_header(path)):
        return parse_targets_csv(path, source=source, note=note, policy=policy)
    return parse_observations_csv(path, source=source, note=note, policy=policy)
