"""The ledger's series as days: each :data:`icetrack.domain.ledger_series.LEDGER_SERIES` entry read from the
warehouse into one row per covered day (``day, value, edition_id`` and, for estimates, ``low, high``).

A day-level table is how periods of any grain are formed the same way for every series; it never adds
precision the source lacks, because :data:`icetrack.domain.ledger_series.READABLE_GRAINS` forbids reading a
monthly series by day or week. For flows a month's total is spread evenly over the days it covers (so a month,
or a fiscal year of months, sums back to the published totals exactly); for levels each covered day carries the
level. A day absent from the table is missing, never zero.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

from icetrack.domain.catalogue import DEFINITIONS
from icetrack.domain.ledger_series import ARRESTS_FROM_BOOK_INS, Bridge
from icetrack.domain.rules import fiscal_year as fiscal_year_of
from icetrack.warehouse.vintage import AllVintages, Latest, Vintage, observations

DAY_COLUMNS = ["day", "value", "edition_id"]
# The fiscal-year-to-date table dated like each monthly table of an edition (same Footnotes topic): its
# period_end is the day the monthly table runs through, which bounds the edition's as-of month.
COVERAGE_MEASURE = {"book_ins": "book_ins_by_facility_type", "adp": "adp"}
# A release spanning at least this many of ICE's 25 ERO areas of responsibility is read as national.
NATIONAL_MIN_AORS = 20
WILSON_Z = 1.959964  # 95%


def _as_date(v) -> date:
    return v.date() if isinstance(v, (pd.Timestamp,)) or hasattr(v, "hour") else v


def _measured(definition_id: str) -> tuple[str, str]:
    m = DEFINITIONS[definition_id][-1].measured_by[0]
    return m.measure, m.dims_key


def coverage_dates(con, measure: str) -> dict[str, date]:
    """Per edition, the last day its monthly ``measure`` table covers (see :data:`COVERAGE_MEASURE`)."""
    obs = con.table("observations")
    fy = obs.filter((obs.measure == COVERAGE_MEASURE[measure]) & (obs.grain == "fytd"))
    df = fy.group_by("edition_id").aggregate(through=fy.period_end.max()).to_pandas()
    return {r.edition_id: _as_date(r.through) for r in df.itertuples()}


def monthly_days(con, definition_id: str, vintage: Vintage = Latest(), *, flow: bool = True) -> pd.DataFrame:
    """A monthly series of one definition as covered days: each month of the vintage's edition, up to the
    day its table runs through (the edition's as-of month is partial), else up to the edition's as-of date."""
    measure, dims_key = _measured(definition_id)
    obs = observations(con, vintage)
    rows = obs.filter((obs.measure == measure) & (obs.dims_key == dims_key) & (obs.grain == "month")).select(
        "period_start", "period_end", "value", "edition_id", "as_of").to_pandas()
    through = coverage_dates(con, measure)
    out = []
    # In date order: a query's row order is not fixed, and float sums over the days must not depend on it.
    for r in rows.sort_values(["period_start", "edition_id"]).itertuples():
        start, end = _as_date(r.period_start), _as_date(r.period_end)
        stop = through.get(r.edition_id) or (_as_date(r.as_of) if r.as_of is not None and not pd.isna(r.as_of) else end)
        end = min(end, stop)
        n = (end - start).days + 1
        if n <= 0:
            continue
        per_day = float(r.value) / n if flow else float(r.value)
        out += [(start + timedelta(days=i), per_day, r.edition_id) for i in range(n)]
    return pd.DataFrame(out, columns=DAY_COLUMNS)


def point_days(con, definition_id: str, grain: str, vintage: Vintage = Latest()) -> pd.DataFrame:
    """A figure of one day each, as published: grain 'day' (ICE's posts) or 'snapshot' (currently detained on
    each edition's snapshot day); the day is the period's last (a day's period is that day)."""
    measure, dims_key = _measured(definition_id)
    obs = observations(con, vintage)
    df = obs.filter((obs.measure == measure) & (obs.dims_key == dims_key) & (obs.grain == grain)).select(
        day=obs.period_end, value=obs.value, edition_id=obs.edition_id).to_pandas()
    df["day"] = df["day"].map(_as_date)
    return df[DAY_COLUMNS].sort_values(["day", "edition_id"]).reset_index(drop=True)


def removal_spans(con, vintage: Vintage = Latest()) -> pd.DataFrame:
    """Removals between consecutive editions of a fiscal year: ``start, end, removals, from_edition,
    edition_id, note``. Each edition's removals-to-date is dated by its removals table; an edition that states
    an earlier edition's date with another value (a footnote left unchanged) is dated by its book-ins table
    instead, and says so. A span whose count would fall (a revision downwards) is left out and listed."""
    obs = observations(con, AllVintages() if isinstance(vintage, Latest) else vintage)
    df = obs.filter((obs.measure == "removals_fytd") & (obs.dims_key == "")).select(
        "period_start", "period_end", "value", "edition_id", "as_of").to_pandas()
    through = coverage_dates(con, "book_ins")
    points: dict[tuple[date, date], tuple[float, str, str]] = {}
    for r in df.sort_values(["as_of", "edition_id"]).itertuples():
        start, end, note = _as_date(r.period_start), _as_date(r.period_end), ""
        seen = points.get((start, end))
        if seen and seen[0] != r.value:
            redated = through.get(r.edition_id)
            if redated is None or redated <= end:
                continue
            note = (f"{r.edition_id} dates its removals {end} like {seen[1]} but counts {r.value:,.0f}, not "
                    f"{seen[0]:,.0f}: dated by its book-ins table ({redated}) instead")
            end = redated
        elif seen:
            continue
        points[(start, end)] = (float(r.value), r.edition_id, note)
    spans = []
    for fy_start in sorted({k[0] for k in points}):
        previous_end, previous_value, previous_edition = fy_start - timedelta(days=1), 0.0, None
        for (start, end), (value, edition, note) in sorted((k, v) for k, v in points.items() if k[0] == fy_start):
            diff = value - previous_value
            if diff < 0:
                note = (f"{edition}: removals to date {value:,.0f} below the {previous_value:,.0f} of "
                        f"{previous_edition} ({previous_end}); span left out as a downward revision")
                spans.append((previous_end + timedelta(days=1), end, None, previous_edition, edition, note))
            else:
                spans.append((previous_end + timedelta(days=1), end, diff, previous_edition, edition, note))
                previous_end, previous_value, previous_edition = end, value, edition
    return pd.DataFrame(spans, columns=["start", "end", "removals", "from_edition", "edition_id", "note"])


def removal_days(spans: pd.DataFrame) -> pd.DataFrame:
    out = []
    for s in spans.itertuples():
        if s.removals is None or pd.isna(s.removals):
            continue
        n = (s.end - s.start).days + 1
        out += [(s.start + timedelta(days=i), s.removals / n, s.edition_id) for i in range(n)]
    return pd.DataFrame(out, columns=DAY_COLUMNS)


# --- the bridge: estimated arrests from book-ins --------------------------------------------------------------

def annual_shares(con, bridge: Bridge = ARRESTS_FROM_BOOK_INS, vintage: Vintage = Latest()) -> pd.DataFrame:
    """Per fiscal year of ``bridge.share_years`` with both figures loaded: ICE-arrested book-ins (sum of the
    months of the latest edition), ERO administrative arrests (annual report) and their ratio."""
    obs = observations(con, vintage)
    months = obs.filter((obs.measure == bridge.book_ins_measure) & (obs.dims_key == bridge.book_ins_dims_key)
                        & (obs.grain == "month")).select("period_start", "value", "edition_id").to_pandas()
    months["fy"] = months.period_start.map(lambda d: fiscal_year_of(_as_date(d)))
    arrests = obs.filter((obs.measure == bridge.arrests_measure) & (obs.grain == "fiscal_year")).select(
        "period_end", "value", "edition_id").to_pandas()
    rows = []
    for a in arrests.itertuples():
        fy = fiscal_year_of(_as_date(a.period_end))
        m = months[months.fy == fy]
        if fy not in bridge.share_years or len(m) != 12:
            continue
        rows.append({"fiscal_year": fy, "book_ins": float(m.value.sum()), "arrests": float(a.value),
                     "share": float(m.value.sum()) / float(a.value),
                     "editions": sorted(set(m.edition_id)) + [a.edition_id]})
    return pd.DataFrame(rows, columns=["fiscal_year", "book_ins", "arrests", "share", "editions"]).sort_values(
        "fiscal_year").reset_index(drop=True)


def wilson(k: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def estimated_days(book_in_days: pd.DataFrame, shares: pd.DataFrame, monthly_share: pd.DataFrame | None,
                   bridge: Bridge = ARRESTS_FROM_BOOK_INS) -> tuple[pd.DataFrame, dict]:
    """Estimated arrests per covered day = book-ins per day / share, with ``low`` and ``high`` from the
    share's interval; the share of a month a national person-level release covers replaces the annual one."""
    central = shares[shares.fiscal_year == bridge.central_year]
    if central.empty or book_in_days.empty:
        return pd.DataFrame(columns=[*DAY_COLUMNS, "low", "high", "share_source"]), {}
    share, lo, hi = float(central.share.iloc[0]), float(shares.share.min()), float(shares.share.max())
    df = book_in_days.copy()
    df["share"], df["share_low"], df["share_high"] = share, lo, hi
    df["share_source"] = f"annual reports FY{', FY'.join(str(y) for y in shares.fiscal_year)}"
    if monthly_share is not None and not monthly_share.empty:
        month = df.day.map(lambda d: date(d.year, d.month, 1))
        ms = monthly_share.set_index("month")
        hit = month.isin(ms.index)
        df.loc[hit, "share"] = month[hit].map(ms.share)
        df.loc[hit, "share_low"] = month[hit].map(ms.share_low)
        df.loc[hit, "share_high"] = month[hit].map(ms.share_high)
        df.loc[hit, "share_source"] = "person-level release (" + month[hit].map(ms.release_id) + ")"
    out = pd.DataFrame({"day": df.day, "value": df.value / df.share, "edition_id": df.edition_id,
                        "low": df.value / df.share_high, "high": df.value / df.share_low,
                        "share_source": df.share_source})
    info = {"bridge": bridge.ref, "label": bridge.label, "text": bridge.text, "central_share": round(share, 4),
            "central_year": bridge.central_year, "share_interval": [round(lo, 4), round(hi, 4)],
            "shares": [{"fiscal_year": int(r.fiscal_year), "book_ins": r.book_ins, "arrests": r.arrests,
                        "share": round(r.share, 4), "editions": r.editions} for r in shares.itertuples()],
            "person_level": bridge.person_level}
    return out, info


# --- person-level releases ----------------------------------------------------------------------------------

def national_releases(pt, *, synthetic: bool = True) -> list[str]:
    """Releases whose arrests span at least :data:`NATIONAL_MIN_AORS` areas of responsibility (without the
    synthetic ones when ``synthetic`` is False)."""
    a = pt.arrests
    df = a.group_by("release_id").aggregate(aors=a.apprehension_aor.nunique()).to_pandas()
    national = set(df[df.aors >= NATIONAL_MIN_AORS].release_id)
    if not synthetic:
        flags = pt.cutoffs.select("release_id", "synthetic").to_pandas()
        national -= set(flags[flags.synthetic.astype(bool)].release_id)
    return sorted(national)


def synthetic_releases(pt) -> set[str]:
    flags = pt.cutoffs.select("release_id", "synthetic").to_pandas()
    return set(flags[flags.synthetic.astype(bool)].release_id)


def person_arrest_days(pt, release_id: str) -> pd.DataFrame:
    """Arrests per apprehension day in one release, one per 24-hour episode (``duplicate_likely`` left out),
    up to the release's cut-off."""
    e = pt.episodes
    e = e.filter((e.release_id == release_id) & ~e.duplicate_likely & e.apprehension_date.notnull())
    df = e.group_by(day=e.apprehension_date.cast("date")).aggregate(value=e.count()).to_pandas()
    cut = pt.cutoffs.filter(pt.cutoffs.release_id == release_id).to_pandas()
    if not cut.empty and cut.cutoff.iloc[0] is not None and not pd.isna(cut.cutoff.iloc[0]):
        df = df[df.day.map(_as_date) <= _as_date(cut.cutoff.iloc[0])]
    df["day"] = df["day"].map(_as_date)
    df["value"] = df["value"].astype(float)
    df["edition_id"] = release_id
    return df[DAY_COLUMNS].sort_values("day").reset_index(drop=True)


def person_monthly_share(pt, release_id: str, threshold: int) -> pd.DataFrame:
    """Per month of one release: arrests (episodes) linked to a detention stay / arrests, with the Wilson
    interval; months with fewer than ``threshold`` arrests are left out (too few to publish)."""
    from icetrack.metrics.outcomes import arrest_outcomes

    ao = arrest_outcomes(pt)
    ao = ao.filter(ao.release_id == release_id)
    month = ao.apprehension_date.truncate("M").cast("date")
    df = ao.group_by(month=month).aggregate(arrests=ao.count(), linked=ao.linked.cast("int64").sum()).to_pandas()
    rows = []
    for r in df.itertuples():
        if r.arrests < threshold or r.linked == 0:
            continue
        lo, hi = wilson(int(r.linked), int(r.arrests))
        rows.append({"month": _as_date(r.month), "share": r.linked / r.arrests, "share_low": max(lo, 1e-9),
                     "share_high": hi, "arrests": int(r.arrests), "linked": int(r.linked), "release_id": release_id})
    return pd.DataFrame(rows, columns=["month", "share", "share_low", "share_high", "arrests", "linked", "release_id"])


def first_day(df: pd.DataFrame) -> date | None:
    return None if df.empty else min(df.day)

