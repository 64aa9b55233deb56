"""Verdicts: each claim checked against every loaded source that measures what it could mean.

A claim is read under the definition its speaker most likely used (``metric``) and under each listed
alternative reading. Each reading yields a value with a *kind*:

- ``exact``: the loaded figures cover the whole window at a grain that fits it;
- ``estimate``: monthly figures were pro-rated by days to a window that cuts a month (assumes an even spread);
- ``lower_bound`` / ``upper_bound``: some days of the window have no figure, so a total or a highest day can
  only be larger (a lowest day only smaller) than what the loaded figures show.

The reading *supports* the claim when every value the evidence allows lies within the claim's accepted
interval, *contradicts* it when none does, and is *inconclusive* otherwise; a reading no loaded source can
measure is *unmeasured* and names the source that would settle it. The verdict:

- ``depends on definition`` when decisive readings disagree, or when reports of a target disagree;
- otherwise the speaker's reading when it is decisive;
- otherwise ``not checkable`` (with what is missing).

A cumulative claim (``statistic: cumulative``) is read as ICE arrests estimated from book-ins (the speaker's
reading) and as ICE-arrested book-ins (its lower bound) by :mod:`icetrack.claims.cumulative`, which also says
which definition of 'arrests' would make it true.

Every verdict is recomputed with the dates of daily figures moved back one day (a post may describe the
previous day), and on the figures published by the day the claim was made (later editions revise figures
and fill in months), and says whether either changes it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pandas as pd

from icetrack.claims.cumulative import LOWER_BOUND, cumulative_readings, definition_note
from icetrack.claims.reading import KIND_WORDS, Reading, fmt, interval_outcome, row_dict, runs
from icetrack.claims.registry import DAILY_ONLY, WEEKDAYS, Claim
from icetrack.domain.catalogue import Definition
from icetrack.metrics.evidence import observations_in_window, reported_targets
from icetrack.metrics.published import DEFAULT_THRESHOLD
from icetrack.warehouse.vintage import KnownBy, Latest, Vintage

VERDICTS = ("supported", "contradicted", "not checkable", "depends on definition")
SHIFT_DAYS = 1
# Periods longer than a month are never pro-rated: spreading a fiscal-year total evenly over one month
# would invent a monthly figure.
MAX_PRORATE_DAYS = 31
GRAIN_ORDER = {"day": 0, "month": 1, "period": 2, "fiscal_year": 3}
# ICE has 25 ERO field offices; a person-level release spanning fewer is a regional subset whose counts can
# only be lower bounds for a national claim.
NATIONAL_AORS = 20
SUPPRESSION_THRESHOLD = DEFAULT_THRESHOLD


class _Sources:
    """What every reading of one check run shares: one Ibis connection, and the person-level tables with
    each release's span, built at most once (their per-arrest outcomes are materialized on first use)."""

    def __init__(self, wh, include_synthetic: bool):
        self.wh, self.con, self.include_synthetic = wh, wh.ibis(), include_synthetic
        self._releases: tuple[Any, pd.DataFrame | None, str] | None = None
        self._counts: dict[tuple, tuple[int, int]] = {}
        self._shares: tuple[pd.DataFrame | None, frozenset[str]] | None = None

    def releases(self) -> tuple[Any, pd.DataFrame | None, str]:
        """(PersonTables, one row per usable release with its arrest span and field offices, reason if none)."""
        if self._releases is None:
            self._releases = self._load_releases()
        return self._releases

    def _load_releases(self) -> tuple[Any, pd.DataFrame | None, str]:
        from icetrack.warehouse.engines import EngineError, duckdb_tables

        try:
            pt = duckdb_tables(self.wh)
        except EngineError:
            return None, None, "no person-level release is loaded"
        releases = pt.cutoffs.to_pandas()
        if not self.include_synthetic:
            releases = releases[~releases.synthetic.fillna(False).astype(bool)]
        if releases.empty:
            return None, None, "only synthetic person-level releases are loaded, and they are never evidence"
        a = pt.arrests
        spans = a.group_by("release_id").aggregate(first=a.apprehension_date.min(), last=a.apprehension_date.max(),
                                                   aors=a.apprehension_aor.nunique()).to_pandas()
        return pt, spans.merge(releases, on="release_id"), ""

    def monthly_shares(self) -> tuple[pd.DataFrame | None, frozenset[str]]:
        """The bridge's person-level rule: per month of each usable national release, the share of its arrests
        booked into detention (None when there is none), and the ids of the synthetic releases among them."""
        if self._shares is None:
            from icetrack.metrics.ledger_series import person_monthly_share

            pt, spans, _ = self.releases()
            national = [] if spans is None else list(spans[spans.aors >= NATIONAL_AORS].itertuples())
            parts = [person_monthly_share(pt, r.release_id, SUPPRESSION_THRESHOLD) for r in national]
            self._shares = (pd.concat(parts) if parts else None,
                            frozenset(r.release_id for r in national if r.synthetic))
        return self._shares

    def cohort_counts(self, release_id: str, start: date, end: date, states: tuple[str, ...]) -> tuple[int, int]:
        """(cohort arrests in [start, end], those in ``states``) of one release."""
        key = (release_id, start, end, states)
        if key not in self._counts:
            from icetrack.metrics import outcomes as oc

            c = oc.cohort(self.releases()[0], "day")
            c = c.filter((c.release_id == release_id) & (c.cohort >= start) & (c.cohort <= end))
            counts = c.aggregate(arrests=c.count(),
                                 in_state=c.state.isin(states).cast("int64").sum()).to_pandas()
            self._counts[key] = (int(counts.arrests[0]), int(counts.in_state[0] or 0))
        return self._counts[key]


def _days(claim: Claim) -> list[date]:
    n = (claim.window_end - claim.window_start).days + 1
    every = [claim.window_start + timedelta(days=i) for i in range(n)]
    if claim.days == "all":
        return every
    if claim.days == "weekend":
        return [d for d in every if d.weekday() >= 5]
    if claim.days == "weekday":
        return [d for d in every if d.weekday() < 5]
    return [d for d in every if d.weekday() == WEEKDAYS.index(claim.days)]


def _daily(claim: Claim, reading: Reading, rows: pd.DataFrame, low: float, high: float) -> None:
    wanted = _days(claim)
    wanted_set = set(wanted)
    by_day = {r.period_start: r for r in rows.itertuples() if r.period_start in wanted_set}
    covered = [d for d in wanted if d in by_day]
    missing = [d for d in wanted if d not in by_day]
    reading.coverage = {"days_in_window": len(wanted), "days_covered": len(covered), "missing": runs(missing)}
    reading.rows = [row_dict(by_day[d]) for d in covered]
    if not covered:
        reading.outcome, reading.reason = "unmeasured", "no daily figure falls in the window"
        return
    values = {d: float(by_day[d].value) for d in covered}
    complete = not missing
    stat = claim.statistic
    if stat == "any_day":
        matching = [d for d in covered if low <= values[d] <= high]
        pick = matching or sorted(covered, key=lambda d: min(abs(values[d] - low), abs(values[d] - high)))
        reading.value, reading.kind, reading.at = values[pick[0]], "exact", [str(d) for d in (matching or pick[:1])]
        reading.outcome = "supported" if matching else ("contradicted" if complete else "inconclusive")
        return
    if stat in ("max_day", "min_day"):
        extreme = (max if stat == "max_day" else min)(values.values())
        reading.value, reading.at = extreme, [str(d) for d in covered if values[d] == extreme]
        reading.kind = "exact" if complete else ("lower_bound" if stat == "max_day" else "upper_bound")
    elif stat == "average":
        reading.value, reading.kind = sum(values.values()) / len(covered), "exact" if complete else "estimate"
    else:
        total = sum(values.values())
        reading.value = total if stat == "total" else total / len(wanted)
        reading.kind = "exact" if complete else "lower_bound"
    reading.outcome = interval_outcome(reading.value, reading.kind, low, high)


def _periodic(claim: Claim, reading: Reading, rows: pd.DataFrame, low: float, high: float) -> None:
    """Monthly or longer figures: whole periods inside the window count fully, cut months pro rata."""
    window_days = (claim.window_end - claim.window_start).days + 1
    used, prorated, covered_days, too_coarse = [], False, 0, []
    for r in rows.itertuples():
        # The month of an edition's as-of date is counted only up to that date.
        end = r.period_end if pd.isna(r.as_of) or r.grain != "month" else min(r.period_end, r.as_of)
        first, last = max(r.period_start, claim.window_start), min(end, claim.window_end)
        overlap = (last - first).days + 1
        if overlap <= 0:
            continue
        length = (end - r.period_start).days + 1
        if overlap == length:
            weight = 1.0
        elif length <= MAX_PRORATE_DAYS:
            weight, prorated = overlap / length, True
        else:
            too_coarse.append(f"{r.period_start}..{r.period_end}")
            continue
        used.append((r, weight, overlap))
        covered_days += overlap
    reading.rows = [row_dict(r, w) for r, w, _ in used]
    reading.coverage = {"days_in_window": window_days, "days_covered": covered_days,
                        "prorated": prorated, "periods_too_coarse": too_coarse}
    if not used:
        reading.outcome = "unmeasured"
        reading.reason = (f"the loaded figures are for {', '.join(too_coarse)}, which does not fit inside the "
                          f"window {claim.window_start}..{claim.window_end}")
        return
    if claim.statistic == "average":
        reading.value = sum(float(r.value) * days for r, _, days in used) / covered_days
        reading.kind = "exact" if not prorated and covered_days == window_days else "estimate"
    else:
        total = sum(float(r.value) * w for r, w, _ in used)
        reading.value = total if claim.statistic == "total" else total / window_days
        reading.kind = ("lower_bound" if covered_days < window_days else "estimate" if prorated else "exact")
    reading.outcome = interval_outcome(reading.value, reading.kind, low, high)


def _fytd(claim: Claim, reading: Reading, rows: pd.DataFrame, low: float, high: float) -> None:
    """Fiscal-year-to-date totals: the longest one inside the window (a lower bound unless it is the window)."""
    inside = rows[(rows.period_start >= claim.window_start) & (rows.period_end <= claim.window_end)]
    window_days = (claim.window_end - claim.window_start).days + 1
    if inside.empty or claim.statistic == "average":
        reading.outcome = "unmeasured"
        reading.reason = "no fiscal-year-to-date figure lies inside the window"
        return
    r = next(inside.sort_values(["period_end", "period_start"], ascending=[False, True]).itertuples())
    days = (r.period_end - r.period_start).days + 1
    reading.rows = [row_dict(r)]
    reading.coverage = {"days_in_window": window_days, "days_covered": days}
    reading.value = float(r.value) if claim.statistic == "total" else float(r.value) / window_days
    reading.kind = "exact" if days == window_days else "lower_bound"
    reading.outcome = interval_outcome(reading.value, reading.kind, low, high)


def _reported_target(con, claim: Claim, reading: Reading) -> None:
    rows = reported_targets(con, reading.definition.concept, "national", claim.window_start,
                            claim.window_end).to_pandas()
    if rows.empty:
        reading.outcome = "unmeasured"
        reading.reason = "no target of this kind was reported in the window"
        return
    # A report agrees when both ends of its range match the claimed range's ends (within the tolerance).
    claimed = claim.comparison.value if isinstance(claim.comparison.value, tuple) else (claim.comparison.value,) * 2
    slack = [v * claim.comparison.tolerance / 100 if claim.comparison.relative else claim.comparison.tolerance
             for v in claimed]
    agree = [(r, abs(r.value_low - claimed[0]) <= slack[0] and abs(r.value_high - claimed[1]) <= slack[1])
             for r in rows.itertuples()]
    reading.rows = [{"target_id": r.target_id, "label": r.label, "value_low": float(r.value_low),
                     "value_high": float(r.value_high), "reported_by": r.reported_by, "announced_on":
                     str(r.announced_on)[:10], "url": r.source_url, "note": r.note, "edition_id": r.edition_id,
                     "agrees": bool(ok)} for r, ok in agree]
    reading.coverage = {"reports": len(agree), "agreeing": sum(ok for _, ok in agree)}
    n_ok = reading.coverage["agreeing"]
    reading.outcome = "supported" if n_ok == len(agree) else "contradicted" if n_ok == 0 else "disputed"
    differing = [r for r, ok in agree if not ok]
    if differing:
        reading.reason = "; ".join(f"{r.reported_by} reported {fmt(r.value_low)}-{fmt(r.value_high)} "
                                   f"({r.announced_on:%Y-%m-%d})" for r in differing)


def _person_level(sources: _Sources, claim: Claim, reading: Reading) -> None:
    """Cohort-funnel states of the arrests in the window, from the person-level release covering it."""
    _, spans, reason = sources.releases()
    if spans is None:
        reading.reason = reason
        return
    covering = spans[(spans["first"].dt.date <= claim.window_start) & (spans["last"].dt.date >= claim.window_end)]
    if covering.empty:
        have = "; ".join(f"{r.release_id} {str(r.first)[:10]}..{str(r.last)[:10]}" for r in spans.itertuples())
        reading.reason = f"no loaded person-level release covers the window (loaded: {have})"
        return
    release = covering.sort_values("cutoff").iloc[-1]
    n_arrests, n_state = sources.cohort_counts(release.release_id, claim.window_start, claim.window_end,
                                               reading.definition.cohort_states)
    national = int(release.aors) >= NATIONAL_AORS
    editions = sources.wh.release_edition_ids(release.release_id)
    suppressed = n_state < SUPPRESSION_THRESHOLD
    reading.rows = [{"release_id": release.release_id, "cutoff": str(release.cutoff)[:10],
                     "period_start": str(claim.window_start), "period_end": str(claim.window_end),
                     "value": None if suppressed else n_state,
                     "cohort_arrests": None if n_arrests < SUPPRESSION_THRESHOLD else n_arrests,
                     "aors": int(release.aors), "synthetic": bool(release.synthetic), "edition_id": editions[0],
                     "editions": editions, "as_of": str(release.cutoff)[:10], "published_on": None,
                     "source": "person-level release " + release.release_id, "url": None}]
    reading.coverage = {"release_id": release.release_id, "cutoff": str(release.cutoff)[:10],
                        "aors": int(release.aors), "national": national, "suppressed": suppressed,
                        "synthetic": bool(release.synthetic)}
    # A release covering only some field offices counts part of the nation: its count is a lower bound.
    # A count below the threshold is never shown; it is still known to be below it.
    if suppressed:
        reading.reason = f"fewer than {SUPPRESSION_THRESHOLD} arrests (suppressed)"
        reading.value, reading.kind = (SUPPRESSION_THRESHOLD - 1, "upper_bound") if national else (0, "lower_bound")
    else:
        reading.value, reading.kind = float(n_state), "exact" if national else "lower_bound"
    low, high = claim.comparison.bounds()
    reading.outcome = interval_outcome(reading.value, reading.kind, low, high)
    if suppressed:
        reading.value = None


def _read(sources: _Sources, claim: Claim, definition: Definition, role: str, shift_days: int,
          vintage: Vintage = Latest()) -> Reading:
    con = sources.con
    reading = Reading(definition, role, "unmeasured")
    if claim.statistic == "reported_target":
        _reported_target(con, claim, reading)
        return reading
    if definition.cohort_states:
        # person-level event dates are exact; a post-date shift does not apply to them
        _person_level(sources, claim, reading)
        if reading.outcome == "unmeasured":
            reading.settled_by = definition.settled_by
        return reading
    if not definition.measured_by:
        reading.reason = f"no loaded source measures {definition.label.lower()}"
        reading.settled_by = definition.settled_by
        return reading
    if ((definition.in_force_from and claim.window_start < definition.in_force_from)
            or (definition.in_force_to and claim.window_end > definition.in_force_to)):
        # the sources counted by another rule for part of the window: their figures measure another definition
        reading.reason = (f"the sources count by {definition.ref} only from {definition.in_force_from or 'the start'}"
                          f" to {definition.in_force_to or 'now'}; the window "
                          f"{claim.window_start}..{claim.window_end} falls partly or wholly outside that")
        return reading
    low, high = claim.comparison.bounds()
    for m in definition.measured_by:
        rows = observations_in_window(con, m, claim.window_start, claim.window_end, shift_days,
                                      vintage).to_pandas()
        rows = rows[rows.grain != "snapshot"]
        if rows.empty:
            continue
        for col in ("period_start", "period_end", "as_of"):
            rows[col] = pd.to_datetime(rows[col]).dt.date
        if "day" in set(rows.grain):
            _daily(claim, reading, rows[rows.grain == "day"], low, high)
        elif claim.statistic in DAILY_ONLY:
            reading.reason = (f"{m.measure} has only {', '.join(sorted(set(rows.grain)))} figures; "
                              f"'{claim.statistic}' needs daily figures")
            continue
        elif set(rows.grain) == {"fytd"}:
            _fytd(claim, reading, rows, low, high)
        else:
            finest = min((g for g in set(rows.grain) if g in GRAIN_ORDER), key=GRAIN_ORDER.get, default=None)
            if finest is None:
                continue
            _periodic(claim, reading, rows[rows.grain == finest], low, high)
        reading.coverage["measure"] = m.measure + (f" [{m.dims_key}]" if m.dims_key else "")
        if reading.outcome != "unmeasured":
            break
    if reading.outcome == "unmeasured":
        reading.reason = reading.reason or (f"no loaded {definition.label.lower()} figures for "
                                            f"{claim.window_start}..{claim.window_end}")
        reading.settled_by = definition.settled_by
    elif reading.outcome == "inconclusive" and reading.coverage.get("missing"):
        reading.settled_by = f"figures for {reading.coverage['missing']} ({definition.settled_by})"
    return reading


def _verdict(readings: list[Reading]) -> str:
    decisive = {r.outcome for r in readings} & {"supported", "contradicted"}
    if any(r.outcome == "disputed" for r in readings) or decisive == {"supported", "contradicted"}:
        return "depends on definition"
    speaker = readings[0]
    if speaker.outcome in decisive:
        return speaker.outcome
    return "not checkable"


def _evaluate(sources: _Sources, claim: Claim, shift_days: int,
              vintage: Vintage = Latest()) -> tuple[str, list[Reading]]:
    if claim.statistic == "cumulative":
        # the speaker's reading is the estimate, its lower bound the book-ins; other alternatives are totals
        readings = cumulative_readings(sources.con, claim, vintage, *sources.monthly_shares())
        as_total = replace(claim, statistic="total")
        readings += [_read(sources, as_total, d, "alternative", shift_days, vintage) for d in claim.alternatives
                     if d.id != LOWER_BOUND.definition]
        return _verdict(readings), readings
    readings = [_read(sources, claim, claim.metric, "speaker", shift_days, vintage)]
    readings += [_read(sources, claim, d, "alternative", shift_days, vintage) for d in claim.alternatives]
    return _verdict(readings), readings


def _at_publication(sources: _Sources, claim: Claim, readings: list[Reading],
                    verdict: str) -> dict[str, Any] | None:
    """The same check on the figures public when the claim was made (editions published by then), or None
    when it cannot differ: no reading draws on editions with a publication date (a target report,
    person-level records, or figures whose editions carry none)."""
    if claim.statistic == "reported_target" or not any(
            x.get("published_on") for r in readings if not r.definition.cohort_states for x in r.rows):
        return None
    # editions without a publication date are excluded: when they became public is unknown
    then_verdict, then = _evaluate(sources, claim, 0, KnownBy(claim.published_on, undated="exclude"))
    return {"known_by": str(claim.published_on), "verdict": then_verdict, "changes_verdict": then_verdict != verdict,
            "readings": [{"metric": r.definition.ref, "value": r.value, "kind": r.kind, "outcome": r.outcome,
                          "editions": sorted({x["edition_id"] for x in r.rows}), "reason": r.reason or None,
                          "description": _describe(claim, r)} for r in then]}




def _describe(claim: Claim, r: Reading) -> str:
    who = f"{r.definition.label} ({r.definition.ref})"
    if r.role == "lower_bound":
        who += ", a lower bound on ICE arrests"
    elif r.coverage.get("bridge"):
        who = f"{r.definition.label} estimated from ICE-arrested book-ins ({r.definition.ref}, {r.coverage['bridge']})"
    if r.outcome == "unmeasured":
        return f"{who}: {r.reason}" + (f"; {r.settled_by} would settle it" if r.settled_by else "")
    if claim.statistic == "reported_target":
        reports = ", ".join(f"{x['reported_by']} {fmt(x['value_low'])}-{fmt(x['value_high'])}"
                            for x in r.rows)
        return f"{who}: {r.coverage['agreeing']} of {r.coverage['reports']} reports agree ({reports})"
    if r.definition.cohort_states:
        cov = r.coverage
        scope = ("national" if cov["national"] else
                 f"only {cov['aors']} field offices, so a lower bound for the nation")
        value = r.reason if cov["suppressed"] else f"{fmt(r.value)}"
        synthetic = " SYNTHETIC release," if cov["synthetic"] else ""
        return (f"{who}: {value} -> {r.outcome};{synthetic} release {cov['release_id']} (cut-off {cov['cutoff']}, "
                f"{scope})")
    stat = {"max_day": "highest day", "min_day": "lowest day", "total": "total", "mean_per_day": "per day",
            "average": "average", "cumulative": "total",
            "any_day": "a matching day" if r.outcome == "supported" else "closest day"}[claim.statistic]
    at = f" on {', '.join(r.at)}" if r.at else ""
    cov = r.coverage
    coverage = f"; figures for {cov['days_covered']} of {cov['days_in_window']} days"
    if cov.get("missing"):
        coverage += f" (none for {cov['missing']})"
    if cov.get("prorated"):
        coverage += "; months cut by the window pro-rated by days"
    if cov.get("months"):
        coverage += f" ({'; '.join(cov['months'])})"
    if cov.get("interval"):
        shares = cov["share_interval"]
        coverage += (f"; interval {fmt(cov['interval'][0])}-{fmt(cov['interval'][1])} from the shares booked in "
                     f"(annual reports {shares[0]:.1%}-{shares[1]:.1%}, central {cov['central_share']:.1%}")
        releases = [x for x in cov["share_source"] if x.startswith("person-level")]
        coverage += f"; the months a release covers: its own share, {', '.join(releases)})" if releases else ")"
    if claim.statistic == "cumulative" and r.reason:
        coverage += f"; {r.reason}"
    return f"{who}: {stat} {KIND_WORDS[r.kind]}{fmt(r.value)}{at} -> {r.outcome}{coverage}"


def _summary(r: Reading, claim: Claim) -> str:
    """The evidence in a few words: '1,179 or more (2025-01-27)', 'about 7,032', or why there is none."""
    if claim.statistic == "reported_target":
        return "; ".join(f"{x['reported_by']} {fmt(x['value_low'])}-{fmt(x['value_high'])}" for x in r.rows)
    if r.value is None:
        return r.reason or "not measured"
    at = f" ({', '.join(r.at)})" if r.at else ""
    interval = r.coverage.get("interval")
    between = f" ({fmt(interval[0])}-{fmt(interval[1])})" if interval else ""
    return f"{KIND_WORDS[r.kind]}{fmt(r.value)}{between}{at}"


def _evidence(r: Reading, claim: Claim) -> dict[str, Any]:
    editions = sorted({e for x in r.rows for e in x.get("editions", [x["edition_id"]])}
                      | set(r.coverage.get("bridge_editions", [])))
    latest = max(r.rows, key=lambda x: (x.get("as_of") or x.get("published_on") or ""), default={})
    first = min((x.get("period_start") or x.get("announced_on") for x in r.rows), default=None)
    last = max((x.get("period_end") or x.get("announced_on") for x in r.rows), default=None)
    return {
        "metric": r.definition.ref, "label": r.definition.label, "definition": r.definition.text,
        "role": r.role, "statistic": claim.statistic, "value": r.value, "kind": r.kind, "outcome": r.outcome,
        "at": r.at, "measure": r.coverage.get("measure"), "coverage": {k: v for k, v in r.coverage.items()
                                                                        if k != "measure"},
        "source": latest.get("source") or latest.get("reported_by"), "edition_id": latest.get("edition_id"),
        "editions": editions, "as_of": latest.get("as_of"), "published_on": latest.get("published_on"),
        "period_start": first, "period_end": last, "url": latest.get("url"), "reason": r.reason or None,
        "settled_by": r.settled_by, "observations": r.rows, "summary": _summary(r, claim),
    }


def _reference_value(claim: Claim) -> float:
    v = claim.comparison.value
    return (v[0] + v[1]) / 2 if isinstance(v, tuple) else v


def _check(sources: _Sources, claim: Claim) -> dict[str, Any]:
    verdict, readings = _evaluate(sources, claim, 0)
    shifted_verdict, shifted = _evaluate(sources, claim, SHIFT_DAYS)
    speaker = readings[0]
    difference = None
    if speaker.value is not None and claim.statistic != "reported_target":
        ref = _reference_value(claim)
        difference = {"absolute": speaker.value - ref,
                      "relative": (speaker.value - ref) / ref if ref else None,
                      "of": f"{speaker.definition.ref} {claim.statistic} minus the claimed {fmt(ref)}"}
    applies = claim.statistic != "reported_target"
    shift = {"days": -SHIFT_DAYS, "applies": applies}
    if applies:
        s = shifted[0]
        shift.update(verdict=shifted_verdict, changes_verdict=shifted_verdict != verdict, value=s.value,
                     kind=s.kind, at=s.at, readings=[_describe(claim, x) for x in shifted])
        shift["note"] = (f"with daily figures moved back one day: {_describe(claim, s)}; verdict "
                         + ("unchanged" if shifted_verdict == verdict else f"becomes '{shifted_verdict}'"))
    else:
        shift["note"] = "not applicable: the dates are when a target was reported, not when arrests happened"
    at_publication = _at_publication(sources, claim, readings, verdict)
    lines = [_describe(claim, r) for r in readings]
    first_days = f" (the first {claim.window_days} days)" if claim.window_days else ""
    explanation = (f"Claim: {claim.statistic.replace('_', ' ')} {claim.comparison.describe()} over "
                   f"{claim.window_start}..{claim.window_end}{first_days}"
                   + ("" if claim.days == "all" else f" ({claim.days} only)") + ". " + "; ".join(lines) + ".")
    true_if = definition_note(claim, readings) if claim.statistic == "cumulative" else None
    if true_if:
        explanation += " " + true_if
    if at_publication and at_publication["changes_verdict"]:
        explanation += (f" On the figures published by {claim.published_on}, when the claim was made: "
                        + "; ".join(x["description"] for x in at_publication["readings"])
                        + f" (verdict then: {at_publication['verdict']}).")
    settled_by = [r.settled_by for r in readings if r.settled_by]
    return {
        "id": claim.id, "text": claim.text, "speaker": claim.speaker, "outlet": claim.outlet,
        "published_on": str(claim.published_on), "url": claim.url, "metric": claim.metric.ref,
        "metric_label": claim.metric.label, "metric_definition": claim.metric.text,
        "alternatives": [d.ref for d in claim.alternatives], "statistic": claim.statistic, "days": claim.days,
        "window": {"start": str(claim.window_start), "end": str(claim.window_end), "days": claim.window_days},
        "comparison": {"op": claim.comparison.op, "value": (list(claim.comparison.value)
                       if isinstance(claim.comparison.value, tuple) else claim.comparison.value),
                       "tolerance": (f"{claim.comparison.tolerance:g}%" if claim.comparison.relative
                                     else claim.comparison.tolerance),
                       "accepts": [None if math.isinf(b) else b for b in claim.comparison.bounds()]},
        "verdict": verdict, "evidence": [_evidence(r, claim) for r in readings], "difference": difference,
        "shift": shift, "at_publication": at_publication, "explanation": explanation, "true_if": true_if,
        "settled_by": settled_by, "note": claim.note,
        "synthetic": any(r.coverage.get("synthetic") for r in readings),
    }


def check_claims(wh, claims: list[Claim], include_synthetic: bool = False) -> list[dict[str, Any]]:
    """Verdicts for ``claims`` against the warehouse ``wh`` (JSON-ready dicts, in the claims' order).

    Synthetic releases are evidence only with ``include_synthetic`` (to try the pipeline), and every verdict
    that used one says ``synthetic: true``.
    """
    sources = _Sources(wh, include_synthetic)
    return [_check(sources, c) for c in claims]
