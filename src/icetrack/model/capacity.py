"""Capacity and projection model: what an arrest target takes in beds, stays and removals.

Definitions (see REFERENCE.md sections 2 and 5):
- Admissions: initial book-ins into ICE detention per day, by arresting agency. In a scenario, ICE
  admissions = ICE arrests per day x share detained (the share of ICE arrests booked into detention:
  ICE-arrested book-ins / ERO administrative arrests over the latest fiscal year with both); CBP-arrested
  admissions continue at their calibrated rate.
- Population: people held at midnight. ICE's average daily population (ADP) is midnight-based; the model's
  monthly ADP is the mean of its midnight populations in the month.
- Stay: the number of midnights a person is held. The model's mean stay per agency is the Little's-law stay
  of the calibration months, ADP / book-ins per day. ICE's ALOS (average length of stay of the people
  booked out in a month) is reported beside it (`alos_days`) but not used: it describes those who left, not
  those held, and the two agree only in a steady state. For all agencies ALOS has been the shorter (Jul-Dec
  2024: 47.1 against 51.3 days; Oct 2025-Mar 2026: 50.2 against 54.5), so ALOS x book-ins would start a
  projection below the population ICE reported. The workbooks publish only mean stays, so stays are
  geometric (a daily exit probability of 1 / mean stay: the maximum-entropy choice for a known mean; the
  FY2023-FY2024 monthly ADP does not identify a shape: gamma shapes 0.3 to 2 fit it within about one point
  of MAPE).
- Little's law (steady state): population = admissions per day x mean stay. Sustainable admissions = beds /
  mean stay; beds needed = admissions x mean stay; mean stay = the admissions-weighted mean of the agencies'.
- Capacity: when the midnight population would exceed the beds, the excess is released that day ("forced
  releases"): first from the day's arrivals (people arrested beyond capacity are not held), then, if the
  population was already above the beds, from those held, in proportion to each agency's share.
- Book-outs (natural exits, not forced releases) split by reason at the calibrated shares: 'Release to
  Remove' is a removal from detention. ICE's removals also count people never booked into ICE detention
  (from FY2025 CBP turnovers not detained; from March 2025 Title 50 expulsions): these "other removals"
  (fiscal-year-to-date removals minus 'Release to Remove' book-outs of the same months) continue at their
  calibrated daily rate. Removals per year = 365 x (removals from detention + other removals) per day.
- Calibration: the last six complete months (long enough to average month-to-month noise, short enough to
  follow trends such as the rising removal share) from the editions published on or before `through`
  (an edition without a publication date counts from its as-of date; an undated reference figure from the
  start of the period it describes). Uncertainty: each parameter's standard deviation over those months.
- Monte Carlo: each run draws the stays and CBP admissions (normal, clipped) and the removal share (beta)
  from the calibration; flows within a run are expected values (at ~1,000 admissions a day Poisson noise
  is ~0.1% of a monthly ADP, negligible next to parameter uncertainty). Bands are the 5th-95th percentiles.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Callable

import ibis
import numpy as np
import pandas as pd
from scipy.optimize import brentq

from icetrack.metrics import detention as det
from icetrack.metrics.evidence import known_by

AGENCIES = ("ICE", "CBP")
BOOK_OUT_CLASSES = ("removal", "release", "transfer", "other")
WINDOW_MONTHS = 6
SOLVE_FOR = ("arrests_per_day", "beds", "stay_days")
MAX_DAYS = 3650
MAX_RUNS = 1_000  # (runs x days) arrays: 1,000 runs x 3,650 days is ~30 MB each
_MEASURES = ("adp", "alos", "book_ins", "book_outs", "removals_fytd", "funded_detention_beds",
             "ero_administrative_arrests")
_TOTAL = det.TOTAL


# -- calibration -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calibration:
    """Model inputs estimated from the workbook series, each with the editions it came from.

    ``stay_days``, ``alos_days``, ``admissions_per_day``: per agency {"mean", "sd"}; ``book_out_shares``: per
    class {"mean", "sd"}; ``share_detained``, ``other_removals_per_day``, ``beds``, ``removals_fytd``:
    {"value", ...sources}; ``last_adp``: the last complete month's ADP per agency and in total.
    """

    through: date | None
    as_of: date
    start: date  # first day after the last calibration month: where projections start
    window: list[str]
    stay_days: dict[str, dict[str, float]]
    alos_days: dict[str, dict[str, float]]
    admissions_per_day: dict[str, dict[str, float]]
    book_out_shares: dict[str, dict[str, float]]
    share_detained: dict[str, Any] | None
    beds: dict[str, Any] | None
    last_adp: dict[str, Any]
    other_removals_per_day: dict[str, Any]
    removals_fytd: dict[str, Any]
    monthly: list[dict[str, Any]]
    editions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["through"] = self.through.isoformat() if self.through else None
        d["as_of"] = self.as_of.isoformat()
        d["start"] = self.start.isoformat()
        return d


def _ibis_con(con_or_wh):
    """The metrics take an Ibis connection; a Warehouse is accepted too and converted."""
    return con_or_wh.ibis() if hasattr(con_or_wh, "ibis") else con_or_wh


def _as_published_by(con, through: date | None) -> pd.DataFrame:
    """Each figure of the model's measures from the newest edition public on ``through`` (ICE's year-end
    files carry no publication date: they count from their as-of date), or the latest vintage."""
    obs = con.table("observations_latest") if through is None else known_by(con, through, undated="from_as_of")
    files = con.table("editions").select("edition_id", "file_name")
    j = obs.filter(obs.measure.isin(_MEASURES)).join(files, "edition_id")
    df = j.select(
        "measure", "dims", "period_start", "period_end", "grain", "value", "edition_id", "file_name",
        "published_on", "as_of", "source_url", "note").to_pandas()
    df["dims"] = df["dims"].map(lambda d: dict(d) if d is not None else {})
    for c in ("period_start", "period_end", "published_on", "as_of"):
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def _dim(df: pd.DataFrame, **dims: str) -> pd.DataFrame:
    keep = np.ones(len(df), dtype=bool)
    for k, v in dims.items():
        keep &= df["dims"].map(lambda d: d.get(k) == v).to_numpy()
    return df[keep]


def _monthly(df: pd.DataFrame, measure: str, **dims: str) -> pd.DataFrame:
    """Complete months of one series (the as-of month of an edition is only partly counted), by month."""
    m = _dim(df[(df.measure == measure) & (df.grain == "month")], **dims)
    m = m[m.as_of.isna() | (m.period_end <= m.as_of)]
    return m.set_index("period_start").sort_index()


def _mean_sd(values) -> dict[str, float]:
    v = np.asarray(list(values), dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def calibrate(con_or_wh, through: date | None = None) -> Calibration:
    """Estimate the model's inputs from editions published on or before ``through`` (all when None).

    ``con_or_wh``: the warehouse's Ibis connection (``wh.ibis()``), as the metrics take; a Warehouse works too.
    """
    con = _ibis_con(con_or_wh)
    df = _as_published_by(con, through)
    when = f"in editions published by {through}" if through else "in the warehouse"
    adp_total = _monthly(df, "adp", agency=_TOTAL, criminality=_TOTAL)
    series = {("adp", a): _monthly(df, "adp", agency=a, criminality=_TOTAL) for a in AGENCIES + (_TOTAL,)}
    series |= {("alos", a): _monthly(df, "alos", agency=a, criminality=_TOTAL) for a in AGENCIES + (_TOTAL,)}
    series |= {("book_ins", a): _monthly(df, "book_ins", agency=a) for a in AGENCIES}
    reasons = _monthly(df, "book_outs", criminality=_TOTAL)
    reasons = reasons.assign(reason=reasons.dims.map(lambda d: d.get("release_reason")))
    reasons = reasons[reasons.reason != _TOTAL]
    reasons = reasons.assign(outcome=reasons.reason.map(lambda r: det.BOOK_OUT_CLASS.get(r, "other")))
    reasons = reasons[reasons.outcome != "bond_detail"]  # detail rows of 'Bonded Out' (see metrics.detention)
    # Months with every series, and a 'Release to Remove' row (FY2019-FY2023 tables list releases only).
    with_removals = set(reasons[reasons.outcome == "removal"].index)
    months = sorted(set(adp_total.index).intersection(with_removals, *[set(s.index) for s in series.values()]))
    if len(months) < 2:
        spans = {"ADP": adp_total.index, "'Release to Remove' book-outs": sorted(with_removals),
                 **{f"{m} {a}": series[(m, a)].index for m, a in series}}
        held = "; ".join(f"{k} {v[0]:%Y-%m}..{v[-1]:%Y-%m}" if len(v) else f"{k} none" for k, v in spans.items())
        raise ValueError(f"calibration needs 2 complete months with ADP, ALOS and book-ins by agency and book-outs "
                         f"by reason including 'Release to Remove' {when}; found {len(months)} ({held})")
    window = months[-WINDOW_MONTHS:]
    used: set[str] = set()

    monthly = []
    for m in window:
        n_days = pd.Timestamp(m).days_in_month
        row: dict[str, Any] = {"month": m.isoformat()[:7], "days": n_days}
        for measure in ("book_ins", "adp", "alos"):
            row[measure] = {a: float(series[(measure, a)].loc[m, "value"]) for a in AGENCIES}
        row["adp"][_TOTAL] = float(series[("adp", _TOTAL)].loc[m, "value"])
        row["alos"][_TOTAL] = float(series[("alos", _TOTAL)].loc[m, "value"])
        row["stay_days"] = {a: row["adp"][a] / (row["book_ins"][a] / n_days) for a in AGENCIES}
        row["stay_days"][_TOTAL] = row["adp"][_TOTAL] / (sum(row["book_ins"].values()) / n_days)
        r = reasons.loc[[m]]
        row["book_outs"] = {c: float(r.value[r.outcome == c].sum()) for c in BOOK_OUT_CLASSES}
        row["book_outs"]["total"] = float(r.value.sum())
        ids = {series[k].loc[m, "edition_id"] for k in series} | set(r.edition_id)
        row["edition_ids"] = sorted(ids)
        used |= ids
        monthly.append(row)

    stay = {a: _mean_sd(r["stay_days"][a] for r in monthly) for a in AGENCIES + (_TOTAL,)}
    alos = {a: _mean_sd(r["alos"][a] for r in monthly) for a in AGENCIES + (_TOTAL,)}
    admissions = {a: _mean_sd(r["book_ins"][a] / r["days"] for r in monthly) for a in AGENCIES}
    shares = {c: _mean_sd(r["book_outs"][c] / r["book_outs"]["total"] for r in monthly) for c in BOOK_OUT_CLASSES}
    last = monthly[-1]
    last_adp = {"month": last["month"], **last["adp"],
                "edition_id": series[("adp", _TOTAL)].loc[window[-1], "edition_id"]}

    share_detained = _share_detained(df, series[("book_ins", "ICE")])
    if share_detained:
        used |= set(share_detained["edition_ids"])
    removals_fytd, other = _other_removals(df, when)
    used |= {removals_fytd["edition_id"], *other["edition_ids"]}
    beds = _beds(df)
    if beds:
        used.add(beds["edition_id"])

    eds = df[df.edition_id.isin(used)].drop_duplicates("edition_id")
    editions = [{"edition_id": e.edition_id, "file_name": e.file_name, "published_on": _iso(e.published_on),
                 "as_of": _iso(e.as_of)} for e in eds.sort_values(["as_of", "edition_id"]).itertuples()]
    as_of = max(e.as_of for e in eds.itertuples() if e.as_of is not None and not pd.isna(e.as_of))
    start = (pd.Timestamp(window[-1]) + pd.offsets.MonthBegin(1)).date()
    return Calibration(through=through, as_of=as_of, start=start, window=[r["month"] for r in monthly],
                       stay_days=stay, alos_days=alos, admissions_per_day=admissions, book_out_shares=shares,
                       share_detained=share_detained, beds=beds, last_adp=last_adp,
                       other_removals_per_day=other, removals_fytd=removals_fytd, monthly=monthly,
                       editions=editions)


def _iso(v) -> str | None:
    return None if v is None or pd.isna(v) else v.isoformat()[:10]


def _share_detained(df: pd.DataFrame, ice_book_ins: pd.DataFrame) -> dict[str, Any] | None:
    """ICE-arrested book-ins / ERO administrative arrests, latest fiscal year with both (12 complete months)."""
    arrests = df[(df.measure == "ero_administrative_arrests") & (df.grain == "fiscal_year")
                 & df.dims.map(lambda d: not d)].sort_values("period_end", ascending=False)
    for a in arrests.itertuples():
        months = ice_book_ins[(ice_book_ins.index >= a.period_start) & (ice_book_ins.index <= a.period_end)]
        if len(months) == 12:
            return {"value": float(months.value.sum() / a.value), "fiscal_year": a.period_end.year,
                    "ice_book_ins": float(months.value.sum()), "ero_administrative_arrests": float(a.value),
                    "edition_ids": sorted({a.edition_id, *months.edition_id})}
    return None


def _other_removals(df: pd.DataFrame, when: str) -> tuple[dict, dict]:
    """The latest fiscal-year-to-date removals, and the removals per day not passing through ICE book-outs."""
    fytd = df[df.measure == "removals_fytd"].sort_values(["period_end", "as_of"])
    if fytd.empty:
        raise ValueError(f"calibration needs ICE removals fiscal year to date {when}; none found")
    f = fytd.iloc[-1]
    # The as-of month counts too here: both figures run to the same as-of date in the same edition.
    rtr = df[(df.measure == "book_outs") & (df.grain == "month") & (df.period_start >= f.period_start)
             & (df.period_start <= f.period_end)]
    rtr = _dim(rtr, criminality=_TOTAL, release_reason="Release to Remove")
    days = (f.period_end - f.period_start).days + 1
    removals_fytd = {"value": float(f.value), "fiscal_year_start": f.period_start.isoformat(),
                     "as_of": f.period_end.isoformat(), "edition_id": f.edition_id, "file_name": f.file_name}
    other = {"value": float((f.value - rtr.value.sum()) / days), "removals_fytd": float(f.value),
             "release_to_remove_book_outs": float(rtr.value.sum()), "days": days,
             "edition_ids": sorted({f.edition_id, *rtr.edition_id})}
    return removals_fytd, other


def _beds(df: pd.DataFrame) -> dict[str, Any] | None:
    b = df[df.measure == "funded_detention_beds"].sort_values("period_end")
    if b.empty:
        return None
    r = b.iloc[-1]
    return {"value": float(r.value), "period_start": r.period_start.isoformat(), "period_end": r.period_end.isoformat(),
            "edition_id": r.edition_id, "file_name": r.file_name, "source_url": r.source_url, "note": r.note}


# -- scenario inputs ---------------------------------------------------------------------------------------
def _number(name: str, value, low: float, high: float = math.inf, *, allow_inf: bool = False) -> float:
    """``value`` as a float in [low, high], else a one-line ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or not low <= v <= high:
        bound = f"between {low:g} and {high:g}" if high < math.inf else f"at least {low:g}"
        raise ValueError(f"{name} must be {bound}, not {v:g}")
    return v


@dataclass(frozen=True)
class _Scenario:
    arrests_per_day: float
    share_detained: float
    beds: float  # math.inf: no capacity limit
    stay_override: float | None
    admissions: dict[str, float]  # per day, central values
    stays: dict[str, float]  # central mean stays


def _scenario(cal: Calibration, arrests_per_day, beds, stay_days, share_detained) -> _Scenario:
    arrests = _number("arrests_per_day", arrests_per_day, 0)
    if beds is None:
        if not cal.beds:
            raise ValueError("beds not given and the warehouse holds no funded_detention_beds figure")
        beds = cal.beds["value"]
    bed_count = _number("beds", beds, 0, allow_inf=True)
    # A stay counts midnights: a person held less than one midnight never appears in a midnight population.
    stay = None if stay_days is None else _number("stay_days", stay_days, 1, MAX_DAYS)
    if share_detained is None:
        if not cal.share_detained:
            raise ValueError("share_detained not given and no fiscal year has both ERO arrests and ICE book-ins")
        share_detained = cal.share_detained["value"]
    share = _number("share_detained", share_detained, 0, 1)
    admissions = {"ICE": arrests * share, "CBP": cal.admissions_per_day["CBP"]["mean"]}
    stays = {a: stay if stay is not None else cal.stay_days[a]["mean"] for a in AGENCIES}
    return _Scenario(arrests, share, bed_count, stay, admissions, stays)


def _json_number(v: float) -> float | None:
    return None if v is None or math.isinf(v) or math.isnan(v) else float(v)


def _removal_share(cal: Calibration) -> float:
    return cal.book_out_shares["removal"]["mean"]


def _steady(admissions: dict[str, float], stays: dict[str, float], beds: float, share_detained: float,
            removal_share: float, other_per_day: float) -> dict[str, float]:
    """Little's law at the given inputs (the closed form ``steady_state`` reports and ``goal_seek`` inverts)."""
    total = sum(admissions.values())
    beds_needed = sum(admissions[a] * stays[a] for a in AGENCIES)
    mean_stay = beds_needed / total if total > 0 else stays["ICE"]
    sustainable = beds / mean_stay
    held = min(total, sustainable)
    # ICE arrests the beds hold at the calibrated CBP admissions: share x a x W_ICE + CBP x W_CBP = beds.
    room = beds - admissions["CBP"] * stays["CBP"]
    sustainable_arrests = (max(room, 0.0) / (share_detained * stays["ICE"])) if share_detained > 0 else math.inf
    removals_per_day = held * removal_share + other_per_day
    return {"admissions_per_day": total, "beds_needed": beds_needed, "mean_stay_days": mean_stay,
            "sustainable_admissions_per_day": sustainable, "sustainable_arrests_per_day": sustainable_arrests,
            "held_admissions_per_day": held, "forced_releases_per_day": total - held,
            "population": held * mean_stay, "removals_from_detention_per_day": held * removal_share,
            "removals_per_day": removals_per_day, "removals_per_year": 365 * removals_per_day}


def steady_state(calibration: Calibration, *, arrests_per_day: float, beds: float | None,
                 stay_days: float | None = None, share_detained: float | None = None) -> dict[str, Any]:
    """Little's law for a scenario: population, sustainable admission rate, beds needed, removals per year.

    ``beds``: None takes the funded beds from the calibration; ``math.inf`` means no capacity limit.
    """
    cal = calibration
    sc = _scenario(cal, arrests_per_day, beds, stay_days, share_detained)
    r = _removal_share(cal)
    other = cal.other_removals_per_day["value"]
    s = _steady(sc.admissions, sc.stays, sc.beds, sc.share_detained, r, other)
    return {
        **{k: _json_number(v) for k, v in s.items()},
        "capacity_binds": s["forced_releases_per_day"] > 0,
        "inputs": {
            "arrests_per_day": sc.arrests_per_day,
            "share_detained": sc.share_detained,
            "share_detained_source": ("given" if share_detained is not None else
                                      f"ICE-arrested book-ins / ERO administrative arrests, "
                                      f"FY{cal.share_detained['fiscal_year']}"),
            "admissions_per_day": dict(sc.admissions),
            "cbp_admissions_source": f"calibrated CBP-arrested book-ins per day, {cal.window[0]}..{cal.window[-1]}",
            "stay_days": dict(sc.stays),
            "stay_source": "given" if sc.stay_override is not None else
                           f"Little's-law stay (ADP / book-ins per day), {cal.window[0]}..{cal.window[-1]}",
            "beds": _json_number(sc.beds),
            "beds_source": "given" if beds is not None else cal.beds,
            "removal_share_of_book_outs": r,
            "other_removals_per_day": other,
            "editions": [e["edition_id"] for e in cal.editions],
        },
        "equations": [
            "admissions = arrests x share detained (ICE) + calibrated CBP admissions",
            "beds needed = sum over agencies of admissions x mean stay (Little's law)",
            "mean stay = beds needed / admissions (admissions-weighted)",
            "sustainable admissions = beds / mean stay",
            "held = min(admissions, sustainable admissions); forced releases = admissions - held",
            "population = held x mean stay",
            "removals per year = 365 x (held x removal share of book-outs + other removals per day)",
        ],
    }


# -- simulation -------------------------------------------------------------------------------------------
def simulate(initial_population: np.ndarray, admissions: np.ndarray, stay_days: np.ndarray, beds: float, days: int,
             progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Daily stock and flow, runs x agencies, in expected values.

    ``initial_population``: (runs|1, agencies) held at the midnight before day 0; ``admissions``: (runs|1,
    days|1, agencies) arriving per day (a single day column applies to every day); ``stay_days``: (runs|1,
    agencies) mean stays (geometric: each night a person leaves with probability 1 / mean stay); ``beds``:
    capacity (``math.inf`` for none). Each day: book-outs leave, arrivals come in, and any population above
    the beds is released (forced releases).
    Returns (runs, days) arrays: population (at midnight), arrivals, held (arrivals kept), forced_releases,
    book_outs; and population_by_agency (runs, days, agencies).
    """
    exit_probability = 1.0 / np.asarray(stay_days, dtype=float)
    runs = max(np.shape(initial_population)[0], np.shape(admissions)[0], exit_probability.shape[0])
    n_agencies = exit_probability.shape[1]
    pop = np.broadcast_to(np.asarray(initial_population, dtype=float), (runs, n_agencies)).copy()
    exit_probability = np.broadcast_to(exit_probability, (runs, n_agencies))
    out = {k: np.zeros((runs, days)) for k in ("population", "arrivals", "held", "forced_releases", "book_outs")}
    by_agency = np.zeros((runs, days, n_agencies))
    for t in range(days):
        exits = pop * exit_probability
        arriving = np.broadcast_to(admissions[:, t if admissions.shape[1] > 1 else 0, :], (runs, n_agencies))
        pop = pop - exits + arriving
        arrived = arriving.sum(axis=1)
        excess = np.maximum(pop.sum(axis=1) - beds, 0.0)
        from_arrivals = np.minimum(excess, arrived)
        arrival_mix = np.divide(arriving, arrived[:, None], out=np.zeros_like(pop), where=arrived[:, None] > 0)
        pop -= arrival_mix * from_arrivals[:, None]
        held_total = pop.sum(axis=1)
        stock_mix = np.divide(pop, held_total[:, None], out=np.zeros_like(pop), where=held_total[:, None] > 0)
        pop -= stock_mix * (excess - from_arrivals)[:, None]
        out["population"][:, t] = pop.sum(axis=1)
        out["arrivals"][:, t] = arrived
        out["held"][:, t] = arrived - from_arrivals
        out["forced_releases"][:, t] = excess
        out["book_outs"][:, t] = exits.sum(axis=1)
        by_agency[:, t, :] = pop
        if progress:
            progress(t + 1)
    out["population_by_agency"] = by_agency
    return out


def _normal(rng: np.random.Generator, estimate: dict[str, float], runs: int, low: float) -> np.ndarray:
    return np.maximum(rng.normal(estimate["mean"], estimate["sd"], runs), low)


def _beta(rng: np.random.Generator, estimate: dict[str, float], runs: int) -> np.ndarray:
    """A share with the estimate's mean and sd (method of moments); constant when the sd allows no beta."""
    m, var = estimate["mean"], estimate["sd"] ** 2
    if not 0 < m < 1 or var <= 0 or var >= m * (1 - m):
        return np.full(runs, m)
    concentration = m * (1 - m) / var - 1
    return rng.beta(m * concentration, (1 - m) * concentration, runs)


def _draw(cal: Calibration, runs: int, seed: int, stay_override: float | None) -> dict[str, np.ndarray]:
    """Per-run parameters drawn from the calibration's uncertainty (fixed order: deterministic per seed)."""
    rng = np.random.default_rng(seed)
    stays = np.column_stack([_normal(rng, cal.stay_days[a], runs, 1.0) for a in AGENCIES])
    if stay_override is not None:
        stays = np.full((runs, len(AGENCIES)), stay_override)
    admissions = np.column_stack([_normal(rng, cal.admissions_per_day[a], runs, 0.0) for a in AGENCIES])
    return {"stays": stays, "admissions": admissions, "removal_share": _beta(rng, cal.book_out_shares["removal"], runs)}


def _bands(values: np.ndarray, digits: int = 1) -> dict[str, float]:
    p5, p50, p95 = np.percentile(values, [5, 50, 95], axis=0)
    return {"p5": round(float(p5), digits), "p50": round(float(p50), digits), "p95": round(float(p95), digits)}


def _series_bands(sim: dict[str, np.ndarray], removals_from_detention: np.ndarray, other_per_day: float,
                  dates: pd.DatetimeIndex) -> dict[str, list]:
    """Daily and calendar-month series with 5/50/95 percentile bands over the runs.

    Daily population: at midnight; monthly population: the month's average daily population (midnight).
    Removals = removals from detention + other removals.
    """
    flows = {"admissions": sim["arrivals"], "held": sim["held"], "forced_releases": sim["forced_releases"],
             "book_outs": sim["book_outs"], "removals_from_detention": removals_from_detention,
             "removals": removals_from_detention + other_per_day}
    per_day = {k: np.round(np.percentile(v, [5, 50, 95], axis=0), 1)
               for k, v in {"population": sim["population"], **flows}.items()}
    daily = [{"date": d.date().isoformat(),
              **{k: {"p5": float(q[0, i]), "p50": float(q[1, i]), "p95": float(q[2, i])} for k, q in per_day.items()}}
             for i, d in enumerate(dates)]
    monthly = []
    for month, idx in pd.Series(np.arange(len(dates)), index=dates).groupby(dates.to_period("M")):
        i = idx.to_numpy()
        monthly.append({"month": str(month), "days": len(i),
                        "complete": len(i) == month.days_in_month,
                        "population": _bands(sim["population"][:, i].mean(axis=1)),
                        **{k: _bands(v[:, i].sum(axis=1)) for k, v in flows.items()}})
    return {"daily": daily, "monthly": monthly}


def check_run_options(days: float, runs: float, seed: float = 0) -> None:
    """One-line ValueErrors for a horizon, a number of runs or a seed out of range."""
    _number("days", days, 1, MAX_DAYS)
    _number("runs", runs, 1, MAX_RUNS)
    _number("seed", seed, 0, 2**32 - 1)
    if int(days) != days or int(runs) != runs or int(seed) != seed:
        raise ValueError("days, runs and seed must be whole numbers")


def project(calibration: Calibration, *, arrests_per_day: float, beds: float | None, stay_days: float | None = None,
            days: int = 365, share_detained: float | None = None, runs: int = 200, seed: int = 0,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Project a scenario day by day from the last calibrated month, with Monte Carlo bands.

    ``beds``: None takes the calibrated funded beds; ``math.inf`` means no capacity limit. ``progress`` is
    called with the number of days simulated.
    """
    cal = calibration
    sc = _scenario(cal, arrests_per_day, beds, stay_days, share_detained)
    check_run_options(days, runs, seed)
    days, runs = int(days), int(runs)
    draws = _draw(cal, runs, seed, sc.stay_override)
    admissions = draws["admissions"].copy()
    admissions[:, AGENCIES.index("ICE")] = sc.admissions["ICE"]  # the scenario sets ICE; CBP keeps its draws
    initial = np.array([[cal.last_adp[a] for a in AGENCIES]])
    sim = simulate(initial, admissions[:, None, :], draws["stays"], sc.beds, days, progress)
    other = cal.other_removals_per_day["value"]
    removals = sim["book_outs"] * draws["removal_share"][:, None]
    dates = pd.date_range(cal.start, periods=days, freq="D")
    per_year = 365 / days
    total_removals = removals.sum(axis=1) + other * days
    initial_excess = max(sum(cal.last_adp[a] for a in AGENCIES) - sc.beds, 0.0)
    return {
        "model": "capacity stock-and-flow (icetrack.model.capacity)",
        "definitions": __doc__,
        "inputs": {"arrests_per_day": sc.arrests_per_day, "share_detained": sc.share_detained,
                   "beds": _json_number(sc.beds), "stay_days": sc.stay_override, "days": days, "runs": runs,
                   "seed": seed, "start": cal.start.isoformat(), "end": dates[-1].date().isoformat(),
                   "initial_population": {a: cal.last_adp[a] for a in AGENCIES}, "initial_population_month":
                   cal.last_adp["month"], "other_removals_per_day": other},
        "calibration": cal.to_dict(),
        "steady_state": steady_state(cal, arrests_per_day=sc.arrests_per_day, beds=beds, stay_days=stay_days,
                                     share_detained=share_detained),
        **_series_bands(sim, removals, other, dates),
        "totals": {
            "days": days,
            "admissions": _bands(sim["arrivals"].sum(axis=1)),
            "held": _bands(sim["held"].sum(axis=1)),
            "forced_releases": _bands(sim["forced_releases"].sum(axis=1)),
            # a population already above the beds on day 0 is released at once: a one-off, not a yearly flow
            "initial_excess": round(initial_excess, 1),
            "book_outs": _bands(sim["book_outs"].sum(axis=1)),
            "removals_from_detention": _bands(removals.sum(axis=1)),
            "other_removals": round(other * days, 1),
            "removals": _bands(total_removals),
            "removals_per_year": _bands(total_removals * per_year),
            "forced_releases_per_year": _bands((sim["forced_releases"].sum(axis=1) - initial_excess) * per_year),
            "final_population": _bands(sim["population"][:, -1]),
        },
    }


# -- goal seeking -----------------------------------------------------------------------------------------
def goal_seek(calibration: Calibration, *, removals_per_year: float, solve_for: str = "arrests_per_day",
              arrests_per_day: float | None = None, beds: float | None = None,
              stay_days: float | None = None) -> dict[str, Any]:
    """The arrests per day, beds or mean stay that reach ``removals_per_year`` in steady state, the others fixed.

    Held fixed unless given: beds = the calibrated funded beds; arrests = the calibrated ICE admissions /
    share detained (today's rate); stays = the calibrated stays. Solving for the stay gives the longest mean
    stay (for everyone) that still reaches the goal. Says so when the goal is out of reach, with the most
    the fixed inputs allow.
    """
    cal = calibration
    if solve_for not in SOLVE_FOR:
        raise ValueError(f"solve_for must be one of {', '.join(SOLVE_FOR)}, not {solve_for!r}")
    goal = _number("removals_per_year", removals_per_year, 0)
    if arrests_per_day is None and solve_for != "arrests_per_day":
        if not cal.share_detained or cal.share_detained["value"] <= 0:
            raise ValueError("arrests_per_day not given and no share detained to derive today's rate")
        arrests_per_day = cal.admissions_per_day["ICE"]["mean"] / cal.share_detained["value"]
    sc = _scenario(cal, 0 if solve_for == "arrests_per_day" else arrests_per_day, beds, stay_days, None)
    r, other = _removal_share(cal), cal.other_removals_per_day["value"]

    def removals_at(value: float) -> float:
        admissions, stays, bed_count = dict(sc.admissions), dict(sc.stays), sc.beds
        if solve_for == "arrests_per_day":
            admissions["ICE"] = value * sc.share_detained
        elif solve_for == "beds":
            bed_count = value
        else:
            stays = {a: value for a in AGENCIES}
        return _steady(admissions, stays, bed_count, sc.share_detained, r, other)["removals_per_year"]

    # Removals are piecewise monotone: they rise with arrests until the beds fill (beyond, a mix shifting to
    # the agency with the longer stay can lower them), rise with beds until every admission is held, and fall
    # with the stay once the beds bind. Search between those break points.
    low, high = {"arrests_per_day": (0.0, 1e7), "beds": (0.0, 1e8), "stay_days": (1.0, float(MAX_DAYS))}[solve_for]
    breaks = {"arrests_per_day": sc.share_detained and _steady(sc.admissions, sc.stays, sc.beds, sc.share_detained,
                                                               r, other)["sustainable_arrests_per_day"],
              "beds": sum(sc.admissions[a] * sc.stays[a] for a in AGENCIES),
              "stay_days": sc.beds / max(sum(sc.admissions.values()), 1e-12)}[solve_for]
    points = sorted({low, high} | ({breaks} if breaks and low < breaks < high else set()))
    values = [removals_at(v) for v in points]
    best = max(values)
    held = {"arrests_per_day": None if solve_for == "arrests_per_day" else sc.arrests_per_day,
            "beds": None if solve_for == "beds" else _json_number(sc.beds),
            "stay_days": None if solve_for == "stay_days" else
            (sc.stay_override if sc.stay_override is not None else dict(sc.stays)),
            "share_detained": sc.share_detained, "removal_share_of_book_outs": r, "other_removals_per_day": other}
    result: dict[str, Any] = {"goal_removals_per_year": goal, "solve_for": solve_for, "held_fixed": held,
                              "max_removals_per_year": _json_number(best),
                              "editions": [e["edition_id"] for e in cal.editions]}
    if goal > best * (1 + 1e-12):
        what = {"arrests_per_day": "at any number of arrests", "beds": "with any number of beds",
                "stay_days": "however short the stays"}[solve_for]
        return {**result, "reachable": False, "value": None,
                "message": f"unreachable holding the others fixed: {what}, removals reach at most {best:,.0f} a year"}
    # the least arrests or beds, or the longest stay, that reaches the goal
    order = range(len(points)) if solve_for != "stay_days" else range(len(points) - 1, -1, -1)
    value = None
    previous = None
    for i in order:
        if values[i] >= goal:
            value = points[i] if previous is None else brentq(lambda v: removals_at(v) - goal,
                                                              *sorted((points[previous], points[i])),
                                                              xtol=1e-9, rtol=1e-12)
            break
        previous = i
    message = (f"already reached at {solve_for} = {value:g}" if previous is None else
               f"{solve_for} = {value:,.1f} reaches {goal:,.0f} removals a year in steady state")
    ss = steady_state(cal, arrests_per_day=value if solve_for == "arrests_per_day" else sc.arrests_per_day,
                      beds=value if solve_for == "beds" else beds,
                      stay_days=value if solve_for == "stay_days" else stay_days)
    return {**result, "reachable": True, "value": value, "message": message, "steady_state": ss}


# -- back-test --------------------------------------------------------------------------------------------
def _months_after(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def _pct(model: float, actual: float) -> float:
    return 100.0 * (model - actual) / actual


def _scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-horizon errors of the model's median and of the naive baseline, and their summaries.

    MAPE = mean |model - actual| / actual; bias = mean (model - actual) / actual (negative: too low), in %.
    """
    for r in rows:
        r["model_error_pct"] = round(_pct(r["model"]["p50"], r["actual"]), 2)
        r["naive_error_pct"] = round(_pct(r["naive"], r["actual"]), 2)
        r["in_band"] = r["model"]["p5"] <= r["actual"] <= r["model"]["p95"]
    if not rows:
        return {"per_horizon": [], "n": 0}
    model = np.array([r["model_error_pct"] for r in rows])
    naive = np.array([r["naive_error_pct"] for r in rows])
    return {"per_horizon": rows, "n": len(rows),
            "model": {"mape": round(float(np.abs(model).mean()), 2), "bias": round(float(model.mean()), 2)},
            "naive": {"mape": round(float(np.abs(naive).mean()), 2), "bias": round(float(naive.mean()), 2)},
            "beats_naive": bool(np.abs(model).mean() < np.abs(naive).mean()),
            "in_band": int(sum(r["in_band"] for r in rows))}


def _complete(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    f = frame[~frame["partial"].astype(bool)].copy()
    f["month"] = pd.to_datetime(f["month"]).dt.date
    return f[(f.month >= first) & (f.month <= last)].set_index("month").sort_index()


def _announced_target(con, through: date) -> dict[str, Any] | None:
    """The latest national arrests target announced on or before ``through`` (what was known then)."""
    t = con.table("targets_latest")
    t = t.filter((t.kind == "target") & (t.concept == "arrests") & (t.scope == "national")
                 & (t.announced_on <= through)).order_by([ibis.desc(t.announced_on), t.value_low]).to_pandas()
    if t.empty:
        return None
    r = t.iloc[0]
    begins = r.effective_from if not pd.isna(r.effective_from) else r.announced_on
    return {"target_id": r.target_id, "label": r.label, "arrests_per_day": float(r.value_low),
            "from": pd.Timestamp(begins).date().isoformat(), "reported_by": r.reported_by,
            "edition_id": r.edition_id, "source_url": r.source_url}


def backtest(con_or_wh, *, through: date = date(2025, 1, 31), until: date = date(2025, 8, 31), runs: int = 200,
             seed: int = 0) -> dict[str, Any]:
    """Calibrate on editions published by ``through``, project to ``until``, score against the latest vintage.

    Three projections share the calibrated stays and book-out shares: ``observed_book_ins`` feeds the
    book-ins the workbooks later reported (the scenario input that materialised; no bed cap, since realised
    book-ins already reflect the beds ICE found), testing the stock-and-flow itself; ``calibrated_book_ins``
    holds admissions at their calibrated rate, capped at the funded beds (a forecast with what was known);
    ``announced_target`` sets ICE arrests to the low end of the latest target announced by ``through``, from
    its effective date, capped at the funded beds. Naive baseline: the last complete month's value carried
    forward (ADP; book-outs and removals per day; the fiscal-year-to-date removals pace).
    """
    con = _ibis_con(con_or_wh)
    if until <= through:
        raise ValueError(f"until ({until}) must be after through ({through})")
    check_run_options(1, runs, seed)
    cal = calibrate(con, through)
    dates = pd.date_range(cal.start, until, freq="D")
    if len(dates) > MAX_DAYS:
        raise ValueError(f"the back-test spans {len(dates)} days; at most {MAX_DAYS}")
    first_scored = (pd.Timestamp(through) + pd.offsets.MonthBegin(1)).date()

    adp = {a: _complete(det.latest_monthly(con, "adp", {"agency": a, "criminality": _TOTAL}).to_pandas(),
                        cal.start, until) for a in AGENCIES + (_TOTAL,)}
    book_ins = det.book_ins_by_agency(con).to_pandas()
    book_ins = {a: _complete(book_ins[book_ins.agency == a], cal.start, until) for a in AGENCIES}
    book_outs = _complete(det.book_outs_total(con).to_pandas(), cal.start, until)
    detention_removals = _complete(det.removal_share(con).to_pandas(), cal.start, until)
    fytd = det.removals_to_date(con).to_pandas()
    fytd["as_of_date"] = pd.to_datetime(fytd["as_of_date"]).dt.date
    fytd0 = cal.removals_fytd
    fytd0_as_of = date.fromisoformat(fytd0["as_of"])
    fytd = fytd[(pd.to_datetime(fytd.period_start).dt.date == date.fromisoformat(fytd0["fiscal_year_start"]))
                & (fytd.as_of_date > fytd0_as_of) & (fytd.as_of_date <= until)].sort_values("as_of_date")

    draws = _draw(cal, runs, seed, None)
    initial = np.array([[cal.last_adp[a] for a in AGENCIES]])
    beds = cal.beds["value"] if cal.beds else math.inf
    month_of_day = dates.to_period("M")
    modes: dict[str, dict[str, Any]] = {}
    observed_months = set.intersection(*[set(book_ins[a].index) for a in AGENCIES])
    if all(p.start_time.date() in observed_months for p in month_of_day.unique()):
        per_day = np.column_stack([[book_ins[a].loc[p.start_time.date(), "value"] / p.days_in_month
                                    for p in month_of_day] for a in AGENCIES])
        modes["observed_book_ins"] = {
            "description": "book-ins as the workbooks later reported them (latest vintage), no bed cap",
            "admissions": per_day[None, :, :], "beds": math.inf,
            "admissions_editions": sorted(set().union(*[set(book_ins[a].edition_id) for a in AGENCIES]))}
    modes["calibrated_book_ins"] = {
        "description": "book-ins held at the calibrated rate, capped at the funded beds",
        "admissions": draws["admissions"][:, None, :], "beds": beds, "admissions_editions": []}
    target = _announced_target(con, through)
    if target and cal.share_detained:
        scenario = np.repeat(draws["admissions"][:, None, :], len(dates), axis=1)
        scenario[:, dates >= pd.Timestamp(target["from"]), AGENCIES.index("ICE")] = (
            target["arrests_per_day"] * cal.share_detained["value"])
        modes["announced_target"] = {
            "description": (f"ICE arrests at {target['arrests_per_day']:,.0f} a day ({target['label']}) from "
                            f"{target['from']} x share detained {cal.share_detained['value']:.3f}, CBP book-ins at "
                            "the calibrated rate, capped at the funded beds"),
            "admissions": scenario, "beds": beds, "admissions_editions": [], "target": target}

    other = cal.other_removals_per_day["value"]
    last = cal.monthly[-1]
    naive_book_outs_per_day = last["book_outs"]["total"] / last["days"]
    naive_removals_per_day = last["book_outs"]["removal"] / last["days"]
    fytd0_days = (fytd0_as_of - date.fromisoformat(fytd0["fiscal_year_start"])).days + 1
    results = {}
    for name, mode in modes.items():
        sim = simulate(initial, mode["admissions"], draws["stays"], mode["beds"], len(dates))
        removals = sim["book_outs"] * draws["removal_share"][:, None]
        monthly, adp_rows, out_rows, rem_rows = [], [], [], []
        for period in month_of_day.unique():
            i = np.flatnonzero(month_of_day == period)
            month = period.start_time.date()
            adp_runs = sim["population"][:, i].mean(axis=1)
            row = {"month": month.isoformat()[:7], "adp": _bands(adp_runs),
                   "adp_by_agency": {a: _bands(sim["population_by_agency"][:, i, k].mean(axis=1))
                                     for k, a in enumerate(AGENCIES)},
                   "admissions": _bands(sim["arrivals"][:, i].sum(axis=1)),
                   "forced_releases": _bands(sim["forced_releases"][:, i].sum(axis=1)),
                   "book_outs": _bands(sim["book_outs"][:, i].sum(axis=1)),
                   "removals_from_detention": _bands(removals[:, i].sum(axis=1))}
            monthly.append(row)
            if month < first_scored:
                continue
            horizon = _months_after(through, month)
            if month in adp[_TOTAL].index:
                a = adp[_TOTAL].loc[month]
                adp_rows.append({"month": row["month"], "horizon_months": horizon, "actual": float(a.value),
                                 "actual_edition": a.edition_id, "model": row["adp"], "naive": cal.last_adp[_TOTAL],
                                 "by_agency": {ag: {"actual": float(adp[ag].loc[month, "value"]),
                                                    "model_p50": row["adp_by_agency"][ag]["p50"]}
                                               for ag in AGENCIES if month in adp[ag].index}})
            if month in book_outs.index:
                out_rows.append({"month": row["month"], "horizon_months": horizon,
                                 "actual": float(book_outs.loc[month, "value"]),
                                 "actual_edition": book_outs.loc[month, "edition_id"], "model": row["book_outs"],
                                 "naive": round(naive_book_outs_per_day * len(i), 1)})
            if month in detention_removals.index:
                rem_rows.append({"month": row["month"], "horizon_months": horizon,
                                 "actual": float(detention_removals.loc[month, "removals"]),
                                 "actual_edition": detention_removals.loc[month, "edition_id"],
                                 "model": row["removals_from_detention"],
                                 "naive": round(naive_removals_per_day * len(i), 1)})
        # removals to date: the calibration's FYTD figure plus the model's removals after its as-of date
        cumulative = np.cumsum(removals + other, axis=1)
        to_date_rows = []
        for r in fytd.itertuples():
            end = dates.get_loc(pd.Timestamp(r.as_of_date))
            begin = dates.get_loc(pd.Timestamp(fytd0_as_of)) if pd.Timestamp(fytd0_as_of) in dates else None
            added = cumulative[:, end] - (cumulative[:, begin] if begin is not None else 0.0)
            days_to_date = (r.as_of_date - date.fromisoformat(fytd0["fiscal_year_start"])).days + 1
            to_date_rows.append({"as_of": r.as_of_date.isoformat(), "horizon_months": _months_after(through, r.as_of_date),
                                 "actual": float(r.value), "actual_edition": r.edition_id,
                                 "model": _bands(fytd0["value"] + added),
                                 "naive": round(fytd0["value"] / fytd0_days * days_to_date, 1)})
        results[name] = {"description": mode["description"], "beds": _json_number(mode["beds"]),
                         "admissions_editions": mode["admissions_editions"],
                         **({"target": mode["target"]} if "target" in mode else {}),
                         "monthly": monthly, "adp": _scored(adp_rows), "book_outs": _scored(out_rows),
                         "removals_from_detention": _scored(rem_rows), "removals_to_date": _scored(to_date_rows)}

    actual_history = det.latest_monthly(con, "adp", {"agency": _TOTAL, "criminality": _TOTAL}).to_pandas()
    actual_history = _complete(actual_history, (pd.Timestamp(cal.start) - pd.DateOffset(months=18)).date(), until)
    return {
        "model": "capacity stock-and-flow (icetrack.model.capacity)",
        "definitions": __doc__,
        "through": through.isoformat(), "until": until.isoformat(), "start": cal.start.isoformat(),
        "runs": runs, "seed": seed,
        "calibration": cal.to_dict(),
        "naive": {"adp": cal.last_adp[_TOTAL], "month": cal.last_adp["month"], "edition_id": cal.last_adp["edition_id"],
                  "book_outs_per_day": naive_book_outs_per_day, "removals_from_detention_per_day": naive_removals_per_day,
                  "removals_fytd_per_day": fytd0["value"] / fytd0_days},
        "actual_adp": [{"month": m.isoformat()[:7], "value": float(r.value), "edition_id": r.edition_id,
                        "as_of": _iso(pd.Timestamp(r.as_of).date())} for m, r in actual_history.iterrows()],
        "modes": results,
        "notes": _backtest_notes(cal, results, book_ins, adp, detention_removals, first_scored),
    }


def _backtest_notes(cal: Calibration, results: dict, book_ins: dict, adp: dict, detention_removals: pd.DataFrame,
                    first_scored: date) -> list[str]:
    """What the scores say and what changed after the calibration date, measured on the workbooks."""
    notes = []
    for name, r in results.items():
        s = r["adp"]
        if s["n"]:
            notes.append(f"{name}: ADP MAPE {s['model']['mape']:.1f}% (bias {s['model']['bias']:+.1f}%) against "
                         f"{s['naive']['mape']:.1f}% ({s['naive']['bias']:+.1f}%) for the last value carried forward; "
                         f"{'beats' if s['beats_naive'] else 'does not beat'} the naive baseline; actual inside the "
                         f"5-95% band in {s['in_band']} of {s['n']} months.")
    observed = results.get("observed_book_ins", {}).get("adp", {}).get("per_horizon", [])
    for a in AGENCIES:
        errors = [abs(_pct(r["by_agency"][a]["model_p50"], r["by_agency"][a]["actual"])) for r in observed
                  if a in r["by_agency"]]
        if errors:
            notes.append(f"observed_book_ins by arresting agency: the {a}-arrested population's MAPE is "
                         f"{np.mean(errors):.1f}%.")
    for a in AGENCIES:
        later = book_ins[a][book_ins[a].index >= first_scored]
        if len(later):
            rate = float((later.value / pd.to_datetime(later.index).days_in_month).mean())
            notes.append(f"{a}-arrested book-ins: {cal.admissions_per_day[a]['mean']:,.0f} a day in the calibration "
                         f"months, {rate:,.0f} a day on average in the months scored.")
        both = later.index.intersection(adp[a].index)
        if len(both):
            stay = float((adp[a].loc[both, "value"] / (later.loc[both, "value"]
                                                        / pd.to_datetime(both).days_in_month)).mean())
            notes.append(f"{a} Little's-law stay (ADP / book-ins per day): {cal.stay_days[a]['mean']:.1f} days "
                         f"calibrated, {stay:.1f} days in the months scored.")
    later = detention_removals[detention_removals.index >= first_scored]
    if len(later):
        release_share = float((later.releases / later.book_outs).mean())
        notes.append(f"Share of book-outs that were releases: {cal.book_out_shares['release']['mean']:.1%} calibrated, "
                     f"{release_share:.1%} in the months scored (fewer releases keep people detained longer).")
    notes.append("Removals to date follow ICE's counting rule of each edition: from March 2025 they include Title 50 "
                 "expulsions, which no calibration before that date could anticipate.")
    return notes
