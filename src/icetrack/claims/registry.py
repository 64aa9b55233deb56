"""The claims file: published statements written down so they can be checked.

Format (YAML, ``format: icetrack-claims/1``; documented in docs/claims.md)::

    format: icetrack-claims/1
    claims:
      - id: nbc-highest-day                 # unique, lower-case letters, digits, '-' and '_'
        text: "the highest single-day total since Jan. 20 was just 1,100"
        speaker: unnamed officials          # optional
        outlet: NBC News
        published_on: 2025-02-07
        url: https://...
        metric: arrests.ice_posted          # a catalogue definition, optionally '@version'
        alternatives: [book_ins.ice_arrested]   # optional: other readings of the same words
        statistic: max_day                  # total | mean_per_day | max_day | min_day | any_day | average
                                            # | reported_target | cumulative
        days: all                           # optional: all | weekday | weekend | monday ... sunday
        window: {start: 2025-01-20, end: 2025-02-06}
        comparison: {op: approximately, value: 1100, tolerance: 50}   # tolerance: number or 'N%'
        note: why the window and tolerance were chosen   # optional

The window is either ``{start: DATE, end: DATE}`` (both days included) or ``{start: DATE, days: K}``, the
first K days from ``start`` (K >= 1; the end is start + K - 1): "in the first 100 days" is
``{start: 2025-01-20, days: 100}``.

``statistic: cumulative`` states a running count of ICE arrests - "at least N since DATE" (a window from DATE
to a stated end, usually the publication date) or "N in the first K days". It goes with
``metric: arrests.ero_administrative`` only (the definition the book-ins bridge estimates), counts every day of
the window (``days: all``) and is read against ICE-arrested book-ins (a lower bound on ICE arrests) and against
ICE arrests estimated from them, with the estimate's interval (:mod:`icetrack.claims.cumulative`).

Every problem in a file is reported, one line each, before anything is checked. A file is refused whole, in
one line, when it is larger than :data:`MAX_CLAIMS_FILE_BYTES`, holds more than :data:`MAX_CLAIMS` claims, nests
deeper than :data:`MAX_DEPTH` or uses YAML anchors and aliases (the format needs none; they are how a few
hundred bytes of YAML expand to gigabytes). Claimed values must be finite and possible in the metric's unit.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from icetrack.domain.catalogue import CATALOGUE, DEFINITIONS, Definition, definition
from icetrack.domain.edition import SourceError
from icetrack.domain.ledger_series import LEDGER_SERIES
from icetrack.domain.plausible import value_problem
from icetrack.sources.files import check_file

FORMAT = "icetrack-claims/1"
STATISTICS = {
    "total": "sum of the values in the window",
    "mean_per_day": "sum of the values in the window divided by the window's days",
    "max_day": "the largest single-day value in the window",
    "min_day": "the smallest single-day value in the window",
    "any_day": "some day in the window has a value meeting the comparison",
    "average": "day-weighted average of a level (a population or a length of stay) over the window",
    "reported_target": "the daily target as reported by other outlets announcing it in the window",
    "cumulative": "ICE arrests over the window, read against ICE-arrested book-ins (a lower bound) and against "
                  "arrests estimated from them (with the estimate's interval)",
}
DAILY_ONLY = {"max_day", "min_day", "any_day"}
# A cumulative statement is about ICE arrests: the definition the ledger's estimate (book-ins bridged to
# arrests) measures. Its lower bound is the ledger's book-ins series.
CUMULATIVE_METRIC = LEDGER_SERIES["arrests.estimated"].definition
FLOW_STATISTICS = ("total", "mean_per_day", "cumulative")
# Levels (a population, a length of stay) are averaged, never added up; flows (arrests, book-ins) are added.
LEVEL_CONCEPTS = {"detained_population", "length_of_stay"}
OPERATORS = ("equals", "at_most", "at_least", "approximately")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_FILTERS = ("all", "weekday", "weekend", *WEEKDAYS)
REQUIRED = ("id", "text", "outlet", "published_on", "url", "metric", "statistic", "window", "comparison")
OPTIONAL = ("speaker", "alternatives", "days", "note")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL_RE = re.compile(r"^https?://\S+$")
_TOLERANCE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
# Every *.yaml file of this package folder is a bundled claims file, read in name order.
BUNDLED_FOLDER = ("data", "claims")
# The first bundled file is 5.9 KB for 9 claims (~650 bytes a claim): 1 MiB holds ~1,600 such claims, far more than a
# hand-kept list of published statements, and is read (or refused) in half a second.
MAX_CLAIMS_FILE_BYTES = 1024 * 1024
# Claims in one file: 100 times the first bundled file's 9, rounded up.
MAX_CLAIMS = 1_000
# The format nests 5 levels at most (file > claims > claim > comparison > [low, high]); 20 leaves room for
# hand-written variations and stops a deeply nested document long before Python's recursion limit.
MAX_DEPTH = 20


class ClaimsFileError(ValueError):
    """Every problem of a claims file; ``str()`` is one line per problem."""

    def __init__(self, file: str | Path, problems: list[str]):
        self.file = str(file)
        self.problems = [f"{Path(self.file).name}: {' '.join(p.split())}" for p in problems]
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Comparison:
    op: str
    value: float | tuple[float, float]  # a range only for reported targets ('1,200-1,400')
    tolerance: float = 0.0
    relative: bool = False  # tolerance given as a percentage of the value

    def bounds(self) -> tuple[float, float]:
        """The values the claim accepts, as a closed interval (infinite ends for at least / at most)."""
        low, high = self.value if isinstance(self.value, tuple) else (self.value, self.value)
        slack_low = low * self.tolerance / 100 if self.relative else self.tolerance
        slack_high = high * self.tolerance / 100 if self.relative else self.tolerance
        if self.op == "at_least":
            return low - slack_low, float("inf")
        if self.op == "at_most":
            return float("-inf"), high + slack_high
        return low - slack_low, high + slack_high

    def describe(self) -> str:
        value = "-".join(f"{v:,.0f}" for v in self.value) if isinstance(self.value, tuple) else f"{self.value:,g}"
        op = self.op.replace("_", " ")
        tol = f" (tolerance {self.tolerance:g}{'%' if self.relative else ''})" if self.tolerance else ""
        return f"{op} {value}{tol}"


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    outlet: str
    published_on: date
    url: str
    metric: Definition
    statistic: str
    window_start: date
    window_end: date
    comparison: Comparison
    speaker: str | None = None
    alternatives: tuple[Definition, ...] = ()
    days: str = "all"
    note: str | None = None
    window_days: int | None = None  # K when the window was given as the first K days from its start
    source_file: str = field(default="", compare=False)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float: not a figure
            return float("inf")
    return None


def _unit(metric: Definition | None) -> str | None:
    """The unit a metric's values are counted in (its first measurement's), None when the catalogue has none."""
    for m in metric.measured_by if metric is not None else ():
        if m.measure in CATALOGUE:
            return CATALOGUE[m.measure].unit
    return None


def _value_problem(value: float, unit: str | None) -> str | None:
    """Why a claimed value cannot be a figure ("<value> is ..."): not finite, or (when the unit is known)
    outside its plausible range."""
    if unit is not None:
        return value_problem(value, unit)
    return None if math.isfinite(value) else f"{value!r} is not finite"


def _metric(ref: Any, what: str, add) -> Definition | None:
    if not isinstance(ref, str) or not ref.strip():
        add(f"{what} must be a catalogue definition name")
        return None
    found = definition(ref.strip())
    if found is None:
        name = ref.strip().partition("@")[0]
        if name in DEFINITIONS:
            versions = ", ".join(str(d.version) for d in DEFINITIONS[name])
            add(f"{what} '{ref}': {name} has no such version (versions: {versions})")
        else:
            close = difflib.get_close_matches(name, list(DEFINITIONS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (see `icetrack check --definitions`)"
            add(f"unknown {what} '{ref}'{hint}")
    return found


def _comparison(raw: Any, statistic: str | None, add, unit: str | None = None) -> Comparison | None:
    if not isinstance(raw, dict):
        add("comparison must be a mapping with op, value and optionally tolerance")
        return None
    unknown = set(raw) - {"op", "value", "tolerance"}
    if unknown:
        add(f"comparison has unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    op = raw.get("op")
    ok = True
    if op not in OPERATORS:
        add(f"comparison op '{op}' is not one of {', '.join(OPERATORS)}")
        ok = False
    value = raw.get("value")
    if isinstance(value, list) and statistic == "reported_target":
        numbers = [_as_number(v) for v in value]
        problems = [p for p in (_value_problem(n, unit) for n in numbers if n is not None) if p]
        if len(numbers) != 2 or None in numbers or problems or numbers[0] > numbers[1]:
            add("comparison value for a target range must be [low, high] with low <= high"
                + (f" (value {problems[0]})" if problems else ""))
            ok = False
        else:
            value = (numbers[0], numbers[1])
    else:
        value = _as_number(value)
        if value is None:
            add(f"comparison value '{str(raw.get('value'))[:80]}' is not a number")
            ok = False
        elif _value_problem(value, unit):
            add(f"comparison value {_value_problem(value, unit)}")
            ok = False
    tolerance, relative = raw.get("tolerance", 0), False
    if isinstance(tolerance, str) and _TOLERANCE_RE.match(tolerance.strip()):
        tolerance, relative = float(_TOLERANCE_RE.match(tolerance.strip()).group(1)), True
    elif _as_number(tolerance) is not None and math.isfinite(_as_number(tolerance)) and tolerance >= 0:
        tolerance = float(tolerance)
    else:
        add(f"comparison tolerance '{tolerance}' must be a number >= 0 or a percentage like '5%'")
        ok = False
    return Comparison(op, value, tolerance, relative) if ok else None


def _statistic_problems(statistic: str | None, metric: Definition | None, alternatives: tuple[Definition, ...],
                        days: Any, add) -> None:
    """Whether a statistic fits the claim's definitions: targets are reported, levels averaged, flows added up,
    and a cumulative count is of ICE arrests over every day of its window."""
    if metric is None or not statistic:
        return
    if (statistic == "reported_target") != (metric.id == "targets.daily_arrests"):
        add(f"statistic '{statistic}' does not apply to metric {metric.id}: reported_target goes with "
            "targets.daily_arrests and only with it")
        return
    if statistic == "cumulative" and metric.id != CUMULATIVE_METRIC:
        add(f"statistic 'cumulative' does not apply to metric {metric.id}: a cumulative count is read as ICE "
            f"arrests, metric {CUMULATIVE_METRIC} (book-ins and the estimate from them are its readings)")
    if statistic == "cumulative" and days != "all":
        add(f"days '{days}' does not apply to statistic 'cumulative', which counts every day of the window")
    if statistic in ("average", *FLOW_STATISTICS):
        for d in (metric, *alternatives):
            if (statistic == "average") != (d.concept in LEVEL_CONCEPTS):
                kind = "a level (averaged)" if d.concept in LEVEL_CONCEPTS else "a flow (added up)"
                add(f"statistic '{statistic}' does not apply to {d.id}, which is {kind}")


def _window(window: Any, add) -> tuple[date | None, date | None, int | None]:
    """(start, end, K) of ``{start, end}`` or ``{start, days: K}`` (the first K days: end = start + K - 1)."""
    if window in (None, ""):
        return None, None, None
    if not isinstance(window, dict) or set(window) not in ({"start", "end"}, {"start", "days"}):
        add("window must be a mapping with start and either end or days (the first K days from start)")
        return None, None, None
    start = _as_date(window["start"])
    if "days" in window:
        k = window["days"]
        if start is None:
            add(f"window start must be a valid date YYYY-MM-DD (got {window['start']!r})")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            add(f"window days {k!r} must be a whole number of days, at least 1")
            return None, None, None
        if start is None:
            return None, None, None
        try:
            return start, start + timedelta(days=k - 1), k
        except OverflowError:
            add(f"window of {k:,} days from {start} ends after the last date there is (9999-12-31)")
            return None, None, None
    end = _as_date(window["end"])
    if start is None or end is None:
        add(f"window start/end must be valid dates YYYY-MM-DD (got {window['start']!r}, {window['end']!r})")
        return None, None, None
    if start > end:
        add(f"window is inverted: start {start} is after end {end}")
        return None, None, None
    return start, end, None


def _claim(entry: Any, index: int, line: int, seen: set[str], add_file) -> Claim | None:
    where = f"entry {index}, line {line}"
    problems: list[str] = []
    if not isinstance(entry, dict):
        add_file(f"{where}: a claim must be a mapping of fields")
        return None
    cid = entry.get("id")
    if isinstance(cid, str) and cid:
        where = f"claim '{cid}' ({where})"

    def add(problem: str) -> None:
        problems.append(f"{where}: {problem}")

    for key in REQUIRED:
        if entry.get(key) in (None, ""):
            add(f"missing {key.replace('_', ' ')}")
    for key in sorted(set(map(str, entry)) - set(REQUIRED) - set(OPTIONAL)):
        close = difflib.get_close_matches(key, REQUIRED + OPTIONAL, n=1)
        add(f"unknown field '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    if cid is not None and not (isinstance(cid, str) and _ID_RE.match(cid)):
        add(f"id '{cid}' must be lower-case letters, digits, '-' or '_'")
    elif isinstance(cid, str):
        if cid in seen:
            add(f"id '{cid}' is used by an earlier claim")
        seen.add(cid)
    url = entry.get("url")
    if url not in (None, "") and not (isinstance(url, str) and _URL_RE.match(url.strip())):
        add(f"url '{url}' is not an http(s) address")
    published = _as_date(entry.get("published_on"))
    if entry.get("published_on") not in (None, "") and published is None:
        add(f"published_on '{entry.get('published_on')}' is not a valid date YYYY-MM-DD")
    metric = _metric(entry.get("metric"), "metric", add) if entry.get("metric") not in (None, "") else None
    alternatives = entry.get("alternatives") or []
    if not isinstance(alternatives, list):
        add("alternatives must be a list of catalogue definitions")
        alternatives = []
    alt_defs = tuple(d for d in (_metric(a, "alternative metric", add) for a in alternatives) if d)
    statistic = entry.get("statistic")
    if statistic not in (None, "") and not (isinstance(statistic, str) and statistic in STATISTICS):
        add(f"statistic '{statistic}' is not one of {', '.join(STATISTICS)}")
        statistic = None
    days = entry.get("days", "all")
    if days not in DAY_FILTERS:
        add(f"days '{days}' is not one of {', '.join(DAY_FILTERS)}")
    _statistic_problems(statistic, metric, alt_defs, days, add)
    start, end, window_days = _window(entry.get("window"), add)
    comparison = (_comparison(entry.get("comparison"), statistic, add, _unit(metric))
                  if entry.get("comparison") else None)
    for p in problems:
        add_file(p)
    if problems:
        return None
    return Claim(id=cid, text=" ".join(str(entry["text"]).split()), outlet=str(entry["outlet"]),
                 published_on=published, url=url.strip(), metric=metric, statistic=statistic,
                 window_start=start, window_end=end, comparison=comparison,
                 speaker=entry.get("speaker"), alternatives=alt_defs, days=days, note=entry.get("note"),
                 window_days=window_days)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed: ~10x faster
    """Safe YAML with dates left as text, so an impossible date is a problem to report, not a crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_structure(text: str, file: str | Path) -> None:
    """Refuse anchors, aliases and deep nesting from the event stream (parsed without recursion), before any
    node is built: an alias can make a small file expand without end, and building nested nodes recurses."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ClaimsFileError(file, [f"line {line}: YAML anchors and aliases (&name, *name) are not allowed in "
                                         "a claims file; write each value out"])
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise ClaimsFileError(file, [f"line {line}: nested deeper than {MAX_DEPTH} levels; a claims file "
                                             "needs 5"])
        elif isinstance(event, _CLOSE):
            depth -= 1


def _compose(text: str, file: str | Path) -> tuple[Any, Any]:
    """(root node, document) of a YAML text, parsed once; every YAML problem becomes one line."""
    if len(text) > MAX_CLAIMS_FILE_BYTES:
        raise ClaimsFileError(file, [f"{len(text):,} characters; a claims file must be at most "
                                     f"{MAX_CLAIMS_FILE_BYTES:,}"])
    try:
        _check_structure(text, file)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            return root, (loader.construct_document(root) if root is not None else None)
        finally:
            loader.dispose()
    except ClaimsFileError:
        raise
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        raise ClaimsFileError(file, [f"{at}not valid YAML ({getattr(e, 'problem', None) or e})"]) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as e:  # an explicit tag on a bad value
        raise ClaimsFileError(file, [f"a value cannot be read: {' '.join(str(e).split())[:200]}"]) from None


def parse_claims(text: str, file: str | Path) -> list[Claim]:
    problems: list[str] = []
    root, data = _compose(text, file)
    if not isinstance(data, dict):
        raise ClaimsFileError(file, [f"expected a mapping with 'format: {FORMAT}' and 'claims:'"])
    if data.get("format") != FORMAT:
        problems.append(f"format is {data.get('format')!r}; expected '{FORMAT}'")
    for key in sorted(set(map(str, data)) - {"format", "claims"}):
        problems.append(f"unknown top-level key '{key}'")
    entries = data.get("claims")
    if not isinstance(entries, list) or not entries:
        problems.append("'claims' must be a non-empty list")
        raise ClaimsFileError(file, problems)
    if len(entries) > MAX_CLAIMS:
        raise ClaimsFileError(file, [f"{len(entries):,} claims; a claims file may hold at most {MAX_CLAIMS:,}"])
    lines = {}
    for key_node, value_node in root.value:
        if key_node.value == "claims":
            lines = {i: n.start_mark.line + 1 for i, n in enumerate(value_node.value)}
    seen: set[str] = set()
    claims = [_claim(entry, i + 1, lines.get(i, 0), seen, problems.append) for i, entry in enumerate(entries)]
    if problems:
        raise ClaimsFileError(file, problems)
    return [c for c in claims if c is not None]


def bundled_claims() -> list[Claim]:
    """The claims of every bundled file (``*.yaml`` in the package's claims folder), in file-name order; an
    id used in two files is a problem of the later file."""
    folder = resources.files("icetrack").joinpath(*BUNDLED_FOLDER)
    claims: list[Claim] = []
    for resource in sorted((r for r in folder.iterdir() if r.name.endswith(".yaml")), key=lambda r: r.name):
        found = parse_claims(resource.read_text(encoding="utf-8"), resource.name)
        seen = {c.id for c in claims}
        repeated = [f"claim '{c.id}': id is used by an earlier bundled file" for c in found if c.id in seen]
        if repeated:
            raise ClaimsFileError(resource.name, repeated)
        claims += found
    return claims


def load_claims(path: str | Path | None = None) -> list[Claim]:
    """The claims of a file, or every bundled claim (:func:`bundled_claims`) when ``path`` is None."""
    if path is None:
        return bundled_claims()
    path = Path(path)
    try:
        check_file(path, max_bytes=MAX_CLAIMS_FILE_BYTES, what="claims file")
        text = path.read_text(encoding="utf-8")
    except SourceError as e:
        raise ClaimsFileError(path, [e.problem]) from None
    except FileNotFoundError:
        raise ClaimsFileError(path, ["no such file"]) from None
    except UnicodeDecodeError:
        raise ClaimsFileError(path, ["not UTF-8 text"]) from None
    except OSError as e:
        raise ClaimsFileError(path, [f"cannot read ({e.strerror})"]) from None
    return parse_claims(text, path)
