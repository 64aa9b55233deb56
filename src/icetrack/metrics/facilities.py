"""Facility history: every facility row of every loaded edition, grouped into facilities by the identity rule
(:mod:`icetrack.domain.facility_identity`), with each facility's figures edition by edition.

What a facility's ADP is: ICE's Facilities sheet splits each facility's fiscal-year-to-date average daily
population four ways - by security classification level (``Level A`` .. ``Level D``), by gender and
criminality (``Male Crim``, ``Male Non-Crim``, ``Female Crim``, ``Female Non-Crim``), by ICE threat level
(``ICE Threat Level 1`` .. ``3``, ``No ICE Threat Level``) - and prints the mandatory-detention ADP, a part of
the whole. The first three each cover everyone: in every edition from FY2019 to FY2026 their sums agree to
the last printed decimal (six in FY2026), except in the 08/14/2025 edition, whose figures are rounded to whole people column by
column, where they differ by at most 2. A facility's total ADP here is the sum of the four Level columns
(:data:`TOTAL_BREAKDOWN`). A facility printed on two rows of one edition (NASSAU COUNTY CORRECTIONAL CENTER
in the 07/07/2025 copy: ADP 10.08 and 1.64, the same mandatory ADP 7.86 on both) keeps its first row's
figures; whether the second row is more people or a repeat cannot be told from the sheet, so its ADP is shown
apart (``adp_repeat_rows``, with ``rows`` = 2) and never added.

Every value is fiscal year to date: an edition's figure is the average from 1 October to its as-of date, so a
facility's history restarts each fiscal year, and it is listed only while it holds someone at the pull.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from icetrack.domain.facility_identity import Identity, Span, city_keys, rename_candidates
from icetrack.warehouse import facilities as store

TOTAL_BREAKDOWN = "level"
LISTING_COLUMNS = ("gender", "facility_code", "inspection_type", "inspection_date", "inspection_standard",
                   "inspection_rating", "inspection_pending")
TABLE_COLUMNS = ("facility_id", "name", "city", "state", "aor", "facility_type", "gender", "first_listed",
                 "last_listed", "n_editions", "adp", "alos", "guaranteed_minimum", "adp_as_of", "inspection_type",
                 "inspection_date", "inspection_standard", "inspection_rating", "former_names")
HISTORY_COLUMNS = ("edition_id", "file_name", "as_of", "fiscal_year", "period_start", "period_end", "name", "adp",
                   "adp_convicted", "adp_not_convicted", "adp_threat_1", "adp_threat_2", "adp_threat_3",
                   "adp_no_threat", "adp_mandatory", "alos", "guaranteed_minimum", "rows", "adp_repeat_rows")
_THREAT = {"ICE Threat Level 1": "adp_threat_1", "ICE Threat Level 2": "adp_threat_2",
           "ICE Threat Level 3": "adp_threat_3", "No ICE Threat Level": "adp_no_threat"}


class UnknownFacility(LookupError):
    """A facility id (or former id) no loaded edition lists."""


@dataclass
class FacilityRecord:
    """Everything loaded about one facility: its rows edition by edition."""

    facility_id: str
    state: str  # the facility's state (a row printed without one takes its facility's, by a curated merge)
    editions: dict[str, dict[str, Any]] = field(default_factory=dict)  # edition_id -> that edition's point
    printed: set[str] = field(default_factory=set)  # names as printed

    def latest(self) -> dict[str, Any]:
        return max(self.editions.values(), key=lambda e: (e["as_of"] or date.min, e["file_name"]))


@dataclass
class FacilityHistory:
    """The facilities of a warehouse: records by id, the identity used, and the editions they come from."""

    records: dict[str, FacilityRecord]
    identity: Identity
    has_listings: bool

    def resolve(self, facility_id: str) -> str:
        """The id of the facility ``facility_id`` names (itself, or the facility a former id was renamed to)."""
        fid = self.identity.aliases().get(facility_id, facility_id)
        if fid not in self.records:
            raise UnknownFacility(f"unknown facility '{facility_id}' (see `icetrack facilities` for the ids of "
                                  f"the {len(self.records)} facilities loaded)")
        return fid

    def matches(self, facility_id: str, dims: dict[str, str]) -> bool:
        """Whether an observation's dims are a row of facility ``facility_id`` (already resolved)."""
        return bool(dims.get("facility")) and self.identity.facility_id(
            dims["facility"], dims.get("state"), dims.get("city")) == facility_id


def load(wh) -> FacilityHistory:
    """Every facility figure and listing of the warehouse, grouped by facility identity."""
    figures = store.facility_figures(wh)
    listed = store.listings(wh)
    identity = Identity(city_keys=city_keys([(r["edition_id"], r["facility"], r["state"], r["city"])
                                              for r in figures if r["facility"]]))
    records: dict[str, FacilityRecord] = {}
    for r in figures:
        if not r["facility"]:
            continue
        point = _point(records, identity, r, r["facility"])
        _add_figure(point, r)
    for r in listed:
        point = _point(records, identity, {**r, "facility": r["name"]}, r["name"])
        for col in LISTING_COLUMNS:
            if r.get(col) and not point.get(col):
                point[col] = r[col]
    return FacilityHistory(records, identity, bool(listed))


def _point(records: dict[str, FacilityRecord], identity: Identity, r: dict[str, Any], name: str) -> dict[str, Any]:
    key = identity.facility_key(name, r.get("state"), r.get("city"))
    record = records.get(key.slug)
    if record is None:
        record = records[key.slug] = FacilityRecord(key.slug, key.state)
    record.printed.add(name)
    point = record.editions.get(r["edition_id"])
    if point is None:
        point = record.editions[r["edition_id"]] = {
            "edition_id": r["edition_id"], "file_name": r["file_name"], "as_of": r["as_of"], "name": name,
            "city": r.get("city"), "state": r.get("state"), "aor": r.get("aor"),
            "facility_type": r.get("facility_type"), "listings": set()}
    return point


def _add_figure(point: dict[str, Any], r: dict[str, Any]) -> None:
    point["listings"].add(r["listing"])
    value = r["value"]
    if r["listing"] != "1":
        if r["measure"] == "facility_adp" and r["breakdown"] == TOTAL_BREAKDOWN:
            point["adp_repeat_rows"] = (point.get("adp_repeat_rows") or 0.0) + value
        return
    if r["measure"] == "facility_guaranteed_minimum":
        point["guaranteed_minimum"] = value
        return
    point["period_start"], point["period_end"] = r["period_start"], r["period_end"]
    if r["measure"] == "facility_alos":
        point["alos"] = value
        return
    breakdown, category = r["breakdown"], r["category"] or ""
    columns = []
    if breakdown == TOTAL_BREAKDOWN:
        columns.append("adp")
    elif breakdown == "gender_criminality":
        columns.append("adp_not_convicted" if "non" in category.lower() else "adp_convicted")
    elif breakdown == "threat" and category in _THREAT:
        columns.append(_THREAT[category])
    elif breakdown == "mandatory":
        columns.append("adp_mandatory")
    for col in columns:
        point[col] = (point.get(col) or 0.0) + value


def _fiscal_year(point: dict[str, Any]) -> int | None:
    start = point.get("period_start")
    return start.year + 1 if isinstance(start, date) else None


def history(data: FacilityHistory, facility_id: str) -> list[dict[str, Any]]:
    """One row per edition listing the facility, oldest first (see the module docstring for what ADP is)."""
    record = data.records[data.resolve(facility_id)]
    rows = []
    for p in sorted(record.editions.values(), key=lambda e: (e["as_of"] or date.min, e["file_name"])):
        row = {c: p.get(c) for c in HISTORY_COLUMNS}
        row["fiscal_year"] = _fiscal_year(p)
        row["rows"] = max(len(p["listings"]), 1)
        rows.append(row)
    return rows


def table(data: FacilityHistory, state: str | None = None) -> list[dict[str, Any]]:
    """One row per facility (optionally of one state): its latest listing's attributes and figures, when it was
    first and last listed, and the names it was printed under. Largest latest ADP first."""
    out = []
    for fid, record in data.records.items():
        latest = record.latest()
        if state and record.state != state.upper():
            continue
        dates = [e["as_of"] for e in record.editions.values() if e["as_of"]]
        row = {c: latest.get(c) for c in TABLE_COLUMNS}
        row.update(facility_id=fid, state=record.state, first_listed=min(dates) if dates else None,
                   last_listed=max(dates) if dates else None, n_editions=len(record.editions),
                   adp_as_of=latest["as_of"], former_names=sorted(record.printed - {latest["name"]}))
        out.append(row)
    return sorted(out, key=lambda r: (-(r["adp"] or 0.0), r["facility_id"]))


def states(data: FacilityHistory) -> list[str]:
    return sorted({r.state for r in data.records.values()})


def latest_edition(data: FacilityHistory) -> dict[str, Any] | None:
    """The newest edition holding facility rows (its id, file and as-of date)."""
    points = [p for r in data.records.values() for p in r.editions.values()]
    if not points:
        return None
    p = max(points, key=lambda e: (e["as_of"] or date.min, e["file_name"]))
    return {"edition_id": p["edition_id"], "file_name": p["file_name"], "as_of": p["as_of"]}


def by_state(data: FacilityHistory) -> list[dict[str, Any]]:
    """Total ADP and number of facilities per state in the newest edition holding facility rows (one edition,
    so every state's figure has the same date and fiscal year)."""
    latest = latest_edition(data)
    if latest is None:
        return []
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"adp": 0.0, "facilities": 0})
    for record in data.records.values():
        point = record.editions.get(latest["edition_id"])
        if point is None:
            continue
        entry = totals[record.state]
        entry["adp"] += point.get("adp") or 0.0
        entry["facilities"] += 1
    return [{"state": s, **v, "edition_id": latest["edition_id"], "as_of": latest["as_of"]}
            for s, v in sorted(totals.items())]


def candidates(data: FacilityHistory) -> list[dict[str, Any]]:
    """Pairs of facilities that may be one renamed, not in the curated list: for a person to check."""
    spans = []
    for fid, record in data.records.items():
        points = list(record.editions.values())
        latest = record.latest()
        dates = [p["as_of"] for p in points if p["as_of"]]
        if not dates:
            continue
        spans.append(Span(fid, latest["name"], record.state, latest.get("city") or "",
                          latest.get("aor") or "", latest.get("facility_type") or "", min(dates), max(dates),
                          frozenset(p["edition_id"] for p in points)))
    return rename_candidates(spans)


def renames(data: FacilityHistory, facility_id: str | None = None) -> list[dict[str, Any]]:
    """The curated renames and merges (of one facility, or all), as recorded with their evidence."""
    chosen = data.identity.renames_into(facility_id) if facility_id else list(data.identity.renames)
    return [{"kind": r.kind, "old_name": r.old_name, "old_id": r.old.slug, "new_name": r.new_name,
             "facility_id": data.identity.canonical(r.new).slug, "first_edition": r.first_edition,
             "evidence": r.evidence, "source_url": r.source_url} for r in chosen]
