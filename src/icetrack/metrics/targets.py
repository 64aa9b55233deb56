"""Targets ledger: every daily series scored against every target that counts the same thing.

The definitions stated in every output are :data:`icetrack.domain.definitions.TARGETS`.
"""

from __future__ import annotations

import math
from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from icetrack.domain import definitions
from icetrack.domain.catalogue import CATALOGUE
from icetrack.domain.targets import DAYS_PER_YEAR, unit_kind
from icetrack.warehouse.vintage import Latest, Vintage, latest_targets, observations

VARIANTS = {"as_published": 0, "shifted_back_one_day": 1}
FIELD_OFFICE_DIMS = ("aor", "field_office")


def _measure_concepts(con) -> ibis.Table:
    declared = con.table("measure_definitions").to_pandas()
    rows = {m: d.concept for m, d in CATALOGUE.items()}
    for r in declared.itertuples():
        rows.setdefault(r.measure, r.concept)
    return ibis.memtable(pd.DataFrame({"measure": list(rows), "concept": list(rows.values())},
                                      columns=["measure", "concept"]).astype(str))


def daily_series(con, shift_days: int = 0, *, vintage: Vintage = Latest()) -> ibis.Table:
    """Daily observations of ``vintage`` with their concept and scope, dates moved back ``shift_days``."""
    obs = observations(con, vintage)
    daily = obs.filter(obs.grain == "day")
    scope = ibis.ifelse(
        ibis.or_(*[daily.dims.contains(k) for k in FIELD_OFFICE_DIMS]), "field_office", "national"
    )
    daily = daily.mutate(day=(daily.period_start - ibis.interval(days=shift_days)).cast("date"), scope=scope)
    return daily.join(_measure_concepts(con), "measure").select(
        "measure", "dims", "dims_key", "day", "value", "unit", "concept", "scope", "edition_id", "synthetic"
    )


def series_stats(daily: ibis.Table) -> ibis.Table:
    """Per-series summary: coverage, total, mean, median, extremes with their dates, weekday vs weekend."""
    by = ["measure", "dims_key"]
    weekend = daily.day.day_of_week.index() >= 5  # Monday = 0
    marked = daily.mutate(
        is_max=daily.value == daily.value.max().over(group_by=by),
        is_min=daily.value == daily.value.min().over(group_by=by),
        is_weekend=weekend,
    )
    return marked.group_by(by).aggregate(
        unit=marked.unit.arbitrary(),
        concept=marked.concept.arbitrary(),
        scope=marked.scope.arbitrary(),
        synthetic=marked.synthetic.any(),
        days=marked.count(),
        first_day=marked.day.min(),
        last_day=marked.day.max(),
        total=marked.value.sum(),
        mean=marked.value.mean(),
        median=marked.value.median(),
        min=marked.value.min(),
        min_days=marked.day.collect(where=marked.is_min),
        max=marked.value.max(),
        max_days=marked.day.collect(where=marked.is_max),
        weekday_days=marked.is_weekend.ifelse(0, 1).sum(),
        weekday_mean=marked.value.mean(where=~marked.is_weekend),
        weekend_days=marked.is_weekend.ifelse(1, 0).sum(),
        weekend_mean=marked.value.mean(where=marked.is_weekend),
        editions=marked.edition_id.collect(distinct=True),
    )


def comparators(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    """Announced targets plus baselines derived from fiscal-year totals of the same concept (value / days)."""
    t = latest_targets(con)
    # Daily flows are compared with rates only: a level (beds) is not a daily figure, and a rate per year is
    # compared per day. Which unit is which is domain.targets.unit_kind, applied to the few units loaded.
    kinds = {u: unit_kind(u) for u in t.select("unit").distinct().to_pandas().unit}
    t = t.filter(t.unit.isin([u for u, k in kinds.items() if k in ("per_day", "per_year")] or [""]))
    yearly = t.unit.isin([u for u, k in kinds.items() if k == "per_year"] or [""])
    announced = t.select(
        "target_id", "kind", "label", "concept", "scope",
        value_low=ibis.ifelse(yearly, t.value_low / DAYS_PER_YEAR, t.value_low),
        value_high=ibis.ifelse(yearly, t.value_high / DAYS_PER_YEAR, t.value_high), unit="unit", announced_on="announced_on",
        effective_from="effective_from", effective_to="effective_to", reported_by="reported_by",
        source_url="source_url", note="note", edition_id="edition_id",
    )
    obs = observations(con, vintage)
    fy = obs.filter((obs.grain == "fiscal_year") & (obs.dims_key == "")).join(_measure_concepts(con), "measure")
    ndays = (fy.period_end.delta(fy.period_start, unit="day") + 1).cast("float64")
    rate = fy.value / ndays
    fy_label = fy.period_end.year().cast("string")
    derived = fy.select(
        target_id="derived_" + fy.measure + "_fy" + fy_label,
        kind=ibis.literal("baseline"),
        label="FY" + fy_label + " " + fy.measure + " / " + ndays.cast("int64").cast("string") + " days (derived)",
        concept=fy.concept,
        scope=ibis.literal("national"),
        value_low=rate,
        value_high=rate,
        unit=fy.unit + " per day",
        announced_on=fy.published_on,
        effective_from=ibis.null("date"),
        effective_to=ibis.null("date"),
        reported_by=ibis.literal("icetrack (derived from the fiscal-year total)"),
        source_url=fy.source_url,
        note=fy.value.cast("int64").cast("string") + " " + fy.unit + " in FY" + fy_label,
        edition_id=fy.edition_id,
    )
    return announced.union(derived)


def target_scores(daily: ibis.Table, comp: ibis.Table) -> ibis.Table:
    """Per (series, target): days at or above each end, before/after effective date, totals since then."""
    j = daily.join(comp, [daily.concept == comp.concept, daily.scope == comp.scope])
    # In force: on or after effective_from and, when the target has an end, on or before effective_to.
    on_or_after = ((j.effective_from.isnull() | (j.day >= j.effective_from))
                   & (j.effective_to.isnull() | (j.day <= j.effective_to)))
    return j.group_by(["measure", "dims_key", "target_id"]).aggregate(
        days_meeting_low=(j.value >= j.value_low).ifelse(1, 0).sum(),
        days_meeting_high=(j.value >= j.value_high).ifelse(1, 0).sum(),
        days_before_effective=on_or_after.ifelse(0, 1).sum(),
        days_since_effective=on_or_after.ifelse(1, 0).sum(),
        total_since_effective=j.value.sum(where=on_or_after),
    )


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item"):
        return _json_value(v.item())
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _as_date(v: Any) -> date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.date() if isinstance(v, (pd.Timestamp, datetime)) else v


def default_by(last_day: date) -> date:
    """Default horizon for 'pace needed': the last day of the month after the series ends."""
    y, m = (last_day.year + (last_day.month == 12), last_day.month % 12 + 1)
    return date(y, m, monthrange(y, m)[1])


def targets_ledger(con, by: date | None = None, *, vintage: Vintage = Latest()) -> dict[str, Any]:
    """The full ledger as a JSON-ready dict (every definition: :data:`icetrack.domain.definitions.TARGETS`)."""
    comp_expr = comparators(con, vintage=vintage)
    comp = comp_expr.to_pandas()
    series: dict[tuple[str, str], dict[str, Any]] = {}
    for variant, shift in VARIANTS.items():
        daily = daily_series(con, shift, vintage=vintage)
        stats = series_stats(daily).to_pandas()
        scores = target_scores(daily, comp_expr).to_pandas()
        for s in stats.itertuples(index=False):
            key = (s.measure, s.dims_key)
            entry = series.setdefault(key, _series_header(con, s))
            first, last = _as_date(s.first_day), _as_date(s.last_day)
            span = (last - first).days + 1
            entry["variants"][variant] = {
                "first_day": first.isoformat(), "last_day": last.isoformat(), "days_covered": int(s.days),
                "days_missing": span - int(s.days), "total": _json_value(s.total),
                "mean": round(float(s.mean), 2), "median": _json_value(s.median),
                "min": _json_value(s.min), "min_dates": sorted(_as_date(d).isoformat() for d in s.min_days),
                "max": _json_value(s.max), "max_dates": sorted(_as_date(d).isoformat() for d in s.max_days),
                "weekday_days": int(s.weekday_days),
                "weekday_mean": None if s.weekday_days == 0 else round(float(s.weekday_mean), 2),
                "weekend_days": int(s.weekend_days),
                "weekend_mean": None if s.weekend_days == 0 else round(float(s.weekend_mean), 2),
            }
            horizon = by or default_by(_as_date(stats.last_day.max()) if shift == 0 else last + timedelta(days=shift))
            for sc in scores[(scores.measure == s.measure) & (scores.dims_key == s.dims_key)].itertuples():
                tgt = comp[comp.target_id == sc.target_id].iloc[0]
                entry["targets"].setdefault(sc.target_id, _target_header(tgt))
                entry["targets"][sc.target_id][variant] = _score(s, sc, tgt, first, last, horizon)
    out = []
    for entry in series.values():
        entry["targets"] = sorted(entry["targets"].values(), key=lambda t: (t["kind"] != "target", t["value_low"], t["value_high"], t["target_id"]))
        out.append(entry)
    return {
        "definitions": definitions.TARGETS,
        "by": by.isoformat() if by else None,
        "series": sorted(out, key=lambda e: (e["concept"] != "arrests", e["measure"], e["dims_key"])),
    }


def _series_header(con, s) -> dict[str, Any]:
    m = CATALOGUE.get(s.measure)
    return {
        "measure": s.measure, "dims_key": s.dims_key, "label": m.label if m else s.measure,
        "definition": m.definition if m else None, "concept": s.concept, "scope": s.scope, "unit": s.unit,
        "synthetic": bool(s.synthetic), "editions": sorted(s.editions), "variants": {}, "targets": {},
    }


def _target_header(t) -> dict[str, Any]:
    header = {k: _json_value(t[k]) for k in ("target_id", "kind", "label", "value_low", "value_high", "unit",
                                            "announced_on", "effective_from", "effective_to", "reported_by",
                                            "source_url",
                                            "note", "edition_id")}
    measure = header["target_id"].removeprefix("derived_").rsplit("_fy", 1)[0]
    if header["target_id"].startswith("derived_") and measure in CATALOGUE:
        header["label"] = header["label"].replace(measure, CATALOGUE[measure].label)
    return header


def pace(value_low: float, total: float, first: date, last: date, horizon: date) -> dict[str, Any]:
    """'Pace needed': the daily figure that would bring the series from ``first`` to ``horizon`` up to
    ``value_low`` a day on average, given ``total`` through ``last`` (None when the horizon is not after it)."""
    remaining = (horizon - last).days
    needed_low = value_low * ((horizon - first).days + 1)
    return {"pace_by": horizon.isoformat(),
            "pace_needed_low": round((needed_low - total) / remaining, 1) if remaining > 0 else None}


def _score(s, sc, t, first: date, last: date, horizon: date) -> dict[str, Any]:
    low, high, total, days = float(t.value_low), float(t.value_high), float(s.total), int(s.days)
    return {
        "days_meeting_low": int(sc.days_meeting_low),
        "days_meeting_high": int(sc.days_meeting_high),
        "shortfall_low": _json_value(low * days - total),
        "shortfall_high": _json_value(high * days - total),
        "attainment_low": round(total / (low * days), 4) if low else None,
        "days_before_effective": int(sc.days_before_effective),
        "days_since_effective": int(sc.days_since_effective),
        "shortfall_low_since_effective": _json_value(low * int(sc.days_since_effective)
                                                     - float(sc.total_since_effective or 0)),
        **pace(low, total, first, last, horizon),
    }
