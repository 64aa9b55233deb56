"""Calibration of the capacity model: its inputs estimated from the workbook series of a chosen vintage.

The last six complete months (long enough to average month-to-month noise, short enough to follow trends)
from the editions published on or before ``through`` (``KnownBy(through, undated="from_as_of")``: an edition
without a publication date counts from its as-of date, an undated reference figure from the start of the
period it describes), or the latest vintage. Every series comes from the detention metrics; the definitions
shown to users are :data:`icetrack.domain.definitions.CAPACITY`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from icetrack.domain.rules import OUTCOME_CLASSES, REMOVAL_REASON, TOTAL
from icetrack.metrics import detention as det
from icetrack.metrics.evidence import edition_details
from icetrack.warehouse.vintage import KnownBy, Latest, Vintage, latest_targets, observations

AGENCIES = ("ICE", "CBP")
WINDOW_MONTHS = 6


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


def vintage_through(through: date | None) -> Vintage:
    """The figures known on ``through`` (undated year-end workbooks count from their as-of date), else the latest."""
    return Latest() if through is None else KnownBy(through, undated="from_as_of")


def _dates(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for c in columns:
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def _complete_months(t) -> pd.DataFrame:
    """Complete months of a monthly metric (:func:`icetrack.domain.rules.is_partial`), by month."""
    df = _dates(t.to_pandas(), "month")
    return df[~df["partial"].astype(bool)].set_index("month").sort_index()


def _monthly_series(con, vintage: Vintage) -> dict[tuple[str, str], pd.DataFrame]:
    """Complete months of ADP and ALOS (per agency and in total) and book-ins per agency."""
    series = {(m, a): _complete_months(det.latest_monthly(con, m, {"agency": a, "criminality": TOTAL},
                                                          vintage=vintage))
              for m in ("adp", "alos") for a in AGENCIES + (TOTAL,)}
    series |= {("book_ins", a): _complete_months(det.latest_monthly(con, "book_ins", {"agency": a}, vintage=vintage))
               for a in AGENCIES}
    return series


def _mean_sd(values) -> dict[str, float]:
    v = np.asarray(list(values), dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def _book_out_reasons(con, vintage: Vintage) -> pd.DataFrame:
    """Complete months of final book-outs by reason with each reason's class (bond detail rows left out)."""
    return _complete_months(det.book_outs_by_reason(con, vintage=vintage))


def _months(series: dict, reasons: pd.DataFrame, when: str) -> list[date]:
    """Months with every series and a 'Release to Remove' row (FY2019-FY2023 tables list releases only)."""
    adp_total = series[("adp", TOTAL)]
    with_removals = set(reasons[reasons.outcome == "removal"].index)
    months = sorted(set(adp_total.index).intersection(with_removals, *[set(s.index) for s in series.values()]))
    if len(months) < 2:
        spans = {"ADP": adp_total.index, "'Release to Remove' book-outs": sorted(with_removals),
                 **{f"{m} {a}": series[(m, a)].index for m, a in series}}
        held = "; ".join(f"{k} {v[0]:%Y-%m}..{v[-1]:%Y-%m}" if len(v) else f"{k} none" for k, v in spans.items())
        raise ValueError(f"calibration needs 2 complete months with ADP, ALOS and book-ins by agency and book-outs "
                         f"by reason including 'Release to Remove' {when}; found {len(months)} ({held})")
    return months


def _month_row(m: date, series: dict, reasons: pd.DataFrame) -> dict[str, Any]:
    """One calibration month: book-ins, ADP, ALOS, Little's-law stays, book-outs by class, editions."""
    n_days = pd.Timestamp(m).days_in_month
    row: dict[str, Any] = {"month": m.isoformat()[:7], "days": n_days}
    for measure in ("book_ins", "adp", "alos"):
        row[measure] = {a: float(series[(measure, a)].loc[m, "value"]) for a in AGENCIES}
    row["adp"][TOTAL] = float(series[("adp", TOTAL)].loc[m, "value"])
    row["alos"][TOTAL] = float(series[("alos", TOTAL)].loc[m, "value"])
    row["stay_days"] = {a: row["adp"][a] / (row["book_ins"][a] / n_days) for a in AGENCIES}
    row["stay_days"][TOTAL] = row["adp"][TOTAL] / (sum(row["book_ins"].values()) / n_days)
    r = reasons.loc[[m]]
    row["book_outs"] = {c: float(r.value[r.outcome == c].sum()) for c in OUTCOME_CLASSES}
    row["book_outs"]["total"] = float(r.value.sum())
    row["edition_ids"] = sorted({series[k].loc[m, "edition_id"] for k in series} | set(r.edition_id))
    return row


def calibrate(con_or_wh, through: date | None = None) -> Calibration:
    """Estimate the model's inputs from editions published on or before ``through`` (all when None).

    ``con_or_wh``: the warehouse's Ibis connection (``wh.ibis()``), as the metrics take; a Warehouse works too.
    """
    con = _ibis_con(con_or_wh)
    vintage = vintage_through(through)
    when = f"in editions published by {through}" if through else "in the warehouse"
    if through is not None:
        _check_published_by(con, through)
    series = _monthly_series(con, vintage)
    fytd = _dates(det.removals_to_date(con, vintage=vintage).to_pandas(), "period_start", "as_of_date")
    # The as-of month counts too here: both figures run to the same as-of date in the same edition.
    release_to_remove = _dates(det.latest_monthly(con, "book_outs", {"criminality": TOTAL,
                                                                     "release_reason": REMOVAL_REASON},
                                                  vintage=vintage).to_pandas(), "month")
    fields, used = status_quo_inputs(series, _book_out_reasons(con, vintage), fytd, release_to_remove, when)
    share_detained = _share_detained(con, vintage, series[("book_ins", "ICE")])
    if share_detained:
        used |= set(share_detained["edition_ids"])
    beds = beds_in_force(con, fields["start"], known_by=through)
    if beds:
        used.add(beds["edition_id"])
    editions, as_of = _editions(con, used)
    return Calibration(through=through, as_of=as_of, share_detained=share_detained, beds=beds, editions=editions,
                       **fields)


def status_quo_inputs(series: dict[tuple[str, str], pd.DataFrame], reasons: pd.DataFrame, fytd: pd.DataFrame,
                      release_to_remove: pd.DataFrame, when: str) -> tuple[dict[str, Any], set[str]]:
    """The calibration's estimates from its monthly series, however they were read (warehouse queries here,
    a known-by view in :mod:`icetrack.model.known_data`): the window, stays, ALOS, admissions, book-out shares,
    last ADP and removals, as :class:`Calibration` fields, and the editions they drew on.

    ``series``: complete months of ADP and ALOS by agency and in total, book-ins by agency (by month);
    ``reasons``: complete months of book-outs by reason with their class; ``fytd``: removals to date
    (period_start, as_of_date, value, edition_id, file_name); ``release_to_remove``: monthly 'Release to
    Remove' book-outs (month, value, edition_id), the as-of month included."""
    window = _months(series, reasons, when)[-WINDOW_MONTHS:]
    monthly = [_month_row(m, series, reasons) for m in window]
    used: set[str] = set().union(*[r["edition_ids"] for r in monthly])
    removals_fytd, other = _other_removals(fytd, release_to_remove, when)
    used |= {removals_fytd["edition_id"], *other["edition_ids"]}
    last = monthly[-1]
    fields = {
        "start": (pd.Timestamp(window[-1]) + pd.offsets.MonthBegin(1)).date(),
        "window": [r["month"] for r in monthly],
        "stay_days": {a: _mean_sd(r["stay_days"][a] for r in monthly) for a in AGENCIES + (TOTAL,)},
        "alos_days": {a: _mean_sd(r["alos"][a] for r in monthly) for a in AGENCIES + (TOTAL,)},
        "admissions_per_day": {a: _mean_sd(r["book_ins"][a] / r["days"] for r in monthly) for a in AGENCIES},
        "book_out_shares": {c: _mean_sd(r["book_outs"][c] / r["book_outs"]["total"] for r in monthly)
                            for c in OUTCOME_CLASSES},
        "last_adp": {"month": last["month"], **last["adp"],
                     "edition_id": series[("adp", TOTAL)].loc[window[-1], "edition_id"]},
        "other_removals_per_day": other, "removals_fytd": removals_fytd, "monthly": monthly,
    }
    return fields, used


def _editions(con, used: set[str]) -> tuple[list[dict[str, Any]], date]:
    """The editions a calibration drew on (by as-of date), and the latest as-of date among them."""
    eds = _dates(edition_details(con, sorted(used)), "published_on", "as_of")
    editions = [{"edition_id": e.edition_id, "file_name": e.file_name, "published_on": iso_date(e.published_on),
                 "as_of": iso_date(e.as_of)} for e in eds.sort_values(["as_of", "edition_id"]).itertuples()]
    as_of = max(e.as_of for e in eds.itertuples() if e.as_of is not None and not pd.isna(e.as_of))
    return editions, as_of


def iso_date(v) -> str | None:
    return None if v is None or pd.isna(v) else v.isoformat()[:10]


def _figures(con, vintage: Vintage, measure: str) -> pd.DataFrame:
    """Every figure of ``measure`` in ``vintage``, with its edition's file name and dates as ``date``."""
    obs = observations(con, vintage)
    t = obs.filter(obs.measure == measure)
    df = _dates(t.to_pandas(), "period_start", "period_end", "as_of")
    files = edition_details(con, sorted(set(df.edition_id)))[["edition_id", "file_name"]]
    return df.merge(files, on="edition_id", how="left")


def _share_detained(con, vintage: Vintage, ice_book_ins: pd.DataFrame) -> dict[str, Any] | None:
    """ICE-arrested book-ins / ERO administrative arrests, latest fiscal year with both (12 complete months)."""
    arrests = _figures(con, vintage, "ero_administrative_arrests")
    arrests = arrests[(arrests.grain == "fiscal_year") & (arrests.dims_key == "")]
    for a in arrests.sort_values("period_end", ascending=False).itertuples():
        months = ice_book_ins[(ice_book_ins.index >= a.period_start) & (ice_book_ins.index <= a.period_end)]
        if len(months) == 12:
            return {"value": float(months.value.sum() / a.value), "fiscal_year": a.period_end.year,
                    "ice_book_ins": float(months.value.sum()), "ero_administrative_arrests": float(a.value),
                    "edition_ids": sorted({a.edition_id, *months.edition_id})}
    return None


def _other_removals(fytd: pd.DataFrame, release_to_remove: pd.DataFrame, when: str) -> tuple[dict, dict]:
    """The latest fiscal-year-to-date removals, and the removals per day not passing through ICE book-outs."""
    if fytd.empty:
        raise ValueError(f"calibration needs ICE removals fiscal year to date {when}; none found")
    f = fytd.sort_values("as_of_date").iloc[-1]
    rtr = release_to_remove[(release_to_remove.month >= f.period_start) & (release_to_remove.month <= f.as_of_date)]
    days = (f.as_of_date - f.period_start).days + 1
    removals_fytd = {"value": float(f.value), "fiscal_year_start": f.period_start.isoformat(),
                     "as_of": f.as_of_date.isoformat(), "edition_id": f.edition_id, "file_name": f.file_name}
    other = {"value": float((f.value - rtr.value.sum()) / days), "removals_fytd": float(f.value),
             "release_to_remove_book_outs": float(rtr.value.sum()), "days": days,
             "edition_ids": sorted({f.edition_id, *rtr.edition_id})}
    return removals_fytd, other


def _check_published_by(con, through: date) -> None:
    """A one-line error when no ICE detention workbook was public on ``through`` (the known-by rule)."""
    e = con.table("editions")
    e = e.filter((e.source == "ice_detention_workbook")
                 & (ibis.coalesce(e.published_on, e.published_by, e.as_of) <= through))
    if not e.count().to_pyarrow().as_py():
        raise ValueError(f"no ICE detention workbook was published on or before {through}: nothing to calibrate on")


def beds_in_force(con, day: date, known_by: date | None = None) -> dict[str, Any] | None:
    """The detention capacity in force on ``day``: of the bed targets (concept detained_population, unit beds,
    national) in force that day, the one in force from the latest date (a newer appropriation or expansion
    replaces the older level), announced by ``known_by`` when given. None when no capacity is in force."""
    t = latest_targets(con)
    t = t.filter((t.concept == "detained_population") & (t.scope == "national")
                 & (t.unit.lower().isin(["beds", "detention beds"])))
    df = t.to_pandas()
    for column in ("effective_from", "effective_to", "announced_on"):
        df[column] = df[column].map(lambda v: None if v is None or pd.isna(v) else pd.Timestamp(v).date())
    df = df[df.effective_from.map(lambda v: v is not None and v <= day)
            & df.effective_to.map(lambda v: v is None or v >= day)]
    if known_by is not None:
        df = df[df.announced_on.map(lambda v: v is None or v <= known_by)]
    if df.empty:
        return None
    r = df.sort_values(["effective_from", "target_id"]).iloc[-1]
    return {"value": float(r.value_low), "target_id": r.target_id, "label": r.label,
            "period_start": r.effective_from.isoformat(),
            "period_end": r.effective_to.isoformat() if r.effective_to else None,
            "edition_id": r.edition_id, "file_name": r.file_name, "source_url": r.source_url, "note": r.note}
