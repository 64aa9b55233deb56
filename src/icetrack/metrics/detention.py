"""Metrics over ICE's detention-statistics workbooks (national series).

Definitions:
- *Latest vintage monthly series*: each month's value from the newest edition (latest as-of date) that
  reports it; the edition and its as-of date travel with every value.
- *Book-out classes*: 'Release to Remove' is a removal; Bonded Out (= Bond Set by ICE + Bond Set by IJ,
  which are detail rows and never added again), Order of
  Recognizance, Order of Supervision, Paroled, Proceedings Terminated, Relief Granted by IJ, Prosecutorial
  Discretion and Court Ordered are releases; Transferred and Transfer to U.S. Marshals or other agency are
  transfers (neither); Other is other.
- *Removal share* of a month = 'Release to Remove' book-outs / all final book-outs of that month (all
  criminality, all reasons including transfers); also given excluding transfers (removals / removals +
  releases + other). Only for months whose table lists removals (FY2024 on).
- *Partial month*: the month of the edition's as-of date, only partly counted.
- *Currently detained* is the workbook's snapshot on its as-of date (one value per edition).
- *Removals to date* is the fiscal-year-to-date removals total of each edition, by as-of date.
"""

from __future__ import annotations

import ibis
import pandas as pd

BOOK_OUT_CLASS = {
    "Release to Remove": "removal",
    "Bonded Out": "release",
    # 'Bonded Out' = 'Bond Set by ICE' + 'Bond Set by IJ' in every edition: the two are detail rows of the
    # bond total, so counting them as well would count every bond release twice.
    "Bond Set by ICE": "bond_detail",
    "Bond Set by IJ": "bond_detail",
    "Order of Recognizance": "release",
    "Order of Supervision": "release",
    "Paroled": "release",
    "Proceedings Terminated": "release",
    "Relief Granted by IJ": "release",
    "Prosecutorial Discretion": "release",
    "Court Ordered": "release",
    "Transferred": "transfer",
    "Transfer to U.S. Marshals or other agency": "transfer",
    "Other": "other",
}
TOTAL = "Total"


def latest_monthly(con, measure: str, dims: dict[str, str] | None = None) -> ibis.Table:
    """Monthly values of ``measure`` (latest vintage) matching ``dims``, with edition and as-of date."""
    obs = con.table("observations_latest")
    sel = obs.filter((obs.measure == measure) & (obs.grain == "month"))
    for k, v in (dims or {}).items():
        sel = sel.filter(sel.dims.get(k) == v)
    return sel.select(month=sel.period_start, value=sel.value, dims=sel.dims, dims_key=sel.dims_key,
                      edition_id=sel.edition_id, as_of=sel.as_of,
                      # the as-of month itself is only partly counted
                      partial=ibis.coalesce(sel.period_end > sel.as_of, False)).order_by(["dims_key", "month"])


def book_ins_by_agency(con) -> ibis.Table:
    t = latest_monthly(con, "book_ins")
    return t.filter(t.dims.get("agency").isin(["ICE", "CBP"])).mutate(agency=t.dims.get("agency")).drop("dims")


def book_outs_by_reason(con) -> ibis.Table:
    """Monthly final book-outs by release reason (all criminality), with each reason's class.

    Excludes the workbook's Total row and the bond detail rows, so the reasons of a month add up to its total.
    """
    t = latest_monthly(con, "book_outs", {"criminality": TOTAL})
    t = t.mutate(release_reason=t.dims.get("release_reason")).filter(lambda x: x.release_reason != TOTAL)
    classes = ibis.memtable(pd.DataFrame({"release_reason": list(BOOK_OUT_CLASS),
                                          "outcome": list(BOOK_OUT_CLASS.values())}))
    j = t.left_join(classes, "release_reason")
    j = j.select("month", "release_reason", outcome=ibis.coalesce(j.outcome, "other"), value=j.value,
                 edition_id=j.edition_id, as_of=j.as_of, partial=j.partial)
    return j.filter(j.outcome != "bond_detail")


def book_outs_total(con) -> ibis.Table:
    """The workbook's own monthly Total row of final book-outs (to check the reasons add up)."""
    t = latest_monthly(con, "book_outs", {"criminality": TOTAL, "release_reason": TOTAL})
    return t.select("month", "value", "edition_id", "as_of", "partial")


def removal_share(con) -> ibis.Table:
    """Per month: removals, releases, transfers, all final book-outs and the removal share.

    Months whose table has no 'Release to Remove' row (the FY2019-FY2023 "Final Releases" layout lists
    releases only) get no share: their total is not all book-outs.
    """
    t = book_outs_by_reason(con)
    per_month = t.group_by("month").aggregate(
        removals=t.value.sum(where=t.outcome == "removal"),
        releases=t.value.sum(where=t.outcome == "release"),
        transfers=t.value.sum(where=t.outcome == "transfer"),
        other=t.value.sum(where=t.outcome == "other"),
        book_outs=t.value.sum(),
        edition_id=t.edition_id.max(),
        as_of=t.as_of.max(),
        partial=t.partial.any(),
    )
    return per_month.filter(per_month.removals.notnull()).mutate(
        removal_share=lambda x: x.removals / x.book_outs,
        removal_share_excluding_transfers=lambda x: x.removals / (x.book_outs - ibis.coalesce(x.transfers, 0)),
    ).order_by("month")


def detained_snapshots(con) -> ibis.Table:
    """Currently detained (all agencies, all criminality) on each edition's as-of date."""
    obs = con.table("observations")
    ed = con.table("editions").select("edition_id", "as_of", "file_name")
    sel = obs.filter((obs.measure == "currently_detained") & (obs.dims.get("agency") == TOTAL)
                     & (obs.dims.get("criminality") == TOTAL))
    j = sel.join(ed, "edition_id")
    # Several copies of one edition (re-saved files) share an as-of date: keep one value per date, the
    # newest ingested copy's, and say how many copies there were.
    return j.group_by(j.period_start.name("as_of_date")).aggregate(
        value=j.value.max(), copies=j.edition_id.nunique(), edition_id=j.edition_id.max(),
        file_name=j.file_name.max()).order_by("as_of_date")


def removals_to_date(con) -> ibis.Table:
    obs = con.table("observations")
    ed = con.table("editions").select("edition_id", "file_name")
    sel = obs.filter(obs.measure == "removals_fytd").join(ed, "edition_id")
    return sel.group_by([sel.period_start, sel.period_end]).aggregate(
        value=sel.value.max(), edition_id=sel.edition_id.max(), file_name=sel.file_name.max()
    ).mutate(fiscal_year=lambda x: x.period_start.year() + 1).rename(as_of_date="period_end").order_by("as_of_date")


def funded_beds(con) -> ibis.Table:
    obs = con.table("observations_latest")
    return obs.filter(obs.measure == "funded_detention_beds").select("period_start", "period_end", "value",
                                                                     "edition_id", "source_url")


def removals_per_book_in_by_fy(con) -> ibis.Table:
    """Per fiscal year: removals (the year's last FYTD figure), initial book-ins (sum of the months, latest
    vintage, all agencies and ICE only), ERO administrative arrests where published, and the ratios.

    Only complete fiscal years (a FYTD removals figure dated Sep 30, i.e. from a year-end edition).
    Removals count every removal in the year whoever arrested and whether or not detained, so removals per
    book-in is a flow ratio, not the share of book-ins that ended in removal (see the cohort funnel).
    """
    r = removals_to_date(con)
    year_end = r.filter((r.as_of_date.month() == 9) & (r.as_of_date.day() == 30))
    year_end = year_end.group_by("fiscal_year").aggregate(removals=year_end.value.max(),
                                                          removals_edition=year_end.edition_id.max())
    b = latest_monthly(con, "book_ins")
    b = b.mutate(fiscal_year=ibis.ifelse(b.month.month() >= 10, b.month.year() + 1, b.month.year()),
                 agency=b.dims.get("agency"))
    per_fy = b.group_by("fiscal_year").aggregate(
        book_ins=b.value.sum(where=b.agency == "Total"),
        ice_book_ins=b.value.sum(where=b.agency == "ICE"),
        months=b.month.nunique(where=b.agency == "Total"),
    )
    obs = con.table("observations_latest")
    arrests = obs.filter((obs.measure == "ero_administrative_arrests") & (obs.grain == "fiscal_year")
                         & (obs.dims_key == ""))
    arrests = arrests.select(fiscal_year=arrests.period_end.year(), ero_administrative_arrests=arrests.value)
    j = year_end.join(per_fy, "fiscal_year", how="left").join(arrests, "fiscal_year", how="left")
    return j.select(
        "fiscal_year", "removals", "book_ins", "ice_book_ins", "months", "ero_administrative_arrests",
        "removals_edition",
        removals_per_book_in=j.removals / j.book_ins,
        removals_per_ice_book_in=j.removals / j.ice_book_ins,
        removals_per_arrest=j.removals / j.ero_administrative_arrests,
    ).order_by("fiscal_year")
