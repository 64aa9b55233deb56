"""Metrics over ICE's detention-statistics workbooks (national series), over a chosen vintage.

The definitions shown to users are :data:`icetrack.domain.definitions.DETENTION`; the counting rules (book-out
classes, removal share, partial months, fiscal years) are :mod:`icetrack.domain.rules`.
"""

from __future__ import annotations

import ibis
import pandas as pd

from icetrack.domain import rules
from icetrack.domain.rules import BOOK_OUT_CLASS, TOTAL
from icetrack.warehouse.vintage import (
    AllVintages,
    Latest,
    Vintage,
    newest_copy,
    observations,
)


def _partial(t: ibis.Table) -> ibis.BooleanValue:
    """:func:`icetrack.domain.rules.is_partial` as an Ibis expression (no as-of date: complete)."""
    return ibis.coalesce(t.period_end > t.as_of, False)


def _fiscal_year(d: ibis.DateValue) -> ibis.IntegerValue:
    """:func:`icetrack.domain.rules.fiscal_year` as an Ibis expression."""
    return ibis.ifelse(d.month() >= rules.FISCAL_YEAR_FIRST_MONTH, d.year() + 1, d.year())


def latest_monthly(con, measure: str, dims: dict[str, str] | None = None, *,
                   vintage: Vintage = Latest()) -> ibis.Table:
    """Monthly values of ``measure`` in ``vintage`` (one per month: Latest or KnownBy) matching ``dims``, with
    edition, as-of date and whether the month is only partly counted."""
    obs = observations(con, vintage)
    sel = obs.filter((obs.measure == measure) & (obs.grain == "month"))
    for k, v in (dims or {}).items():
        sel = sel.filter(sel.dims.get(k) == v)
    return sel.select(month=sel.period_start, value=sel.value, dims=sel.dims, dims_key=sel.dims_key,
                      edition_id=sel.edition_id, as_of=sel.as_of,
                      partial=_partial(sel)).order_by(["dims_key", "month"])


def book_ins_by_agency(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    t = latest_monthly(con, "book_ins", vintage=vintage)
    return t.filter(t.dims.get("agency").isin(["ICE", "CBP"])).mutate(agency=t.dims.get("agency")).drop("dims")


def book_outs_by_reason(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    """Monthly final book-outs by release reason (all criminality), with each reason's class.

    Excludes the workbook's Total row and the bond detail rows, so the reasons of a month add up to its total.
    """
    t = latest_monthly(con, "book_outs", {"criminality": TOTAL}, vintage=vintage)
    t = t.mutate(release_reason=t.dims.get("release_reason")).filter(lambda x: x.release_reason != TOTAL)
    classes = ibis.memtable(pd.DataFrame({"release_reason": list(BOOK_OUT_CLASS),
                                          "outcome": list(BOOK_OUT_CLASS.values())}))
    j = t.left_join(classes, "release_reason")
    j = j.select("month", "release_reason", outcome=ibis.coalesce(j.outcome, rules.UNLISTED_CLASS), value=j.value,
                 edition_id=j.edition_id, as_of=j.as_of, partial=j.partial)
    return j.filter(j.outcome != "bond_detail")


def book_outs_total(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    """The workbook's own monthly Total row of final book-outs (to check the reasons add up)."""
    t = latest_monthly(con, "book_outs", {"criminality": TOTAL, "release_reason": TOTAL}, vintage=vintage)
    return t.select("month", "value", "edition_id", "as_of", "partial")


def removal_share(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    """Per month: removals, releases, transfers, all final book-outs and the removal share.

    Months whose table has no 'Release to Remove' row (the FY2019-FY2023 "Final Releases" layout lists
    releases only) get no share: their total is not all book-outs.
    """
    t = book_outs_by_reason(con, vintage=vintage)
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
        removal_share=lambda x: rules.removal_share(x.removals, x.book_outs),
        removal_share_excluding_transfers=lambda x: x.removals / (x.book_outs - ibis.coalesce(x.transfers, 0)),
    ).order_by("month")


def _copies_of(con, sel: ibis.Table, key: list[str]) -> ibis.Table:
    """Of the copies of one figure in several editions (``sel``: observations rows), the copy the
    latest-vintage rule picks among those sharing ``key``, whole (value, edition and file from one row),
    with the number of copies."""
    ed = con.table("editions").select("edition_id", "file_name", "ingested_at")
    j = sel.join(ed, "edition_id")
    copies = j.group_by(key).aggregate(copies=j.edition_id.nunique())
    return newest_copy(j, key).join(copies, key)


def detained_snapshots(con, *, vintage: Vintage = AllVintages()) -> ibis.Table:
    """Currently detained (all agencies, all criminality) on each edition's as-of date.

    Several copies of one edition (re-saved files) share an as-of date: one row per date, the copy the
    latest-vintage rule picks (its value, edition and file), and how many copies there were."""
    obs = observations(con, vintage)
    sel = obs.filter((obs.measure == "currently_detained") & (obs.dims.get("agency") == TOTAL)
                     & (obs.dims.get("criminality") == TOTAL))
    j = _copies_of(con, sel, ["period_start"])
    return j.select(as_of_date=j.period_start, value=j.value, copies=j.copies, edition_id=j.edition_id,
                    file_name=j.file_name).order_by("as_of_date")


def removals_to_date(con, *, vintage: Vintage = AllVintages()) -> ibis.Table:
    """The fiscal-year-to-date removals of each as-of date: value, edition and file of one copy (as in
    :func:`detained_snapshots`)."""
    obs = observations(con, vintage)
    j = _copies_of(con, obs.filter(obs.measure == "removals_fytd"), ["period_start", "period_end"])
    return j.select("period_start", as_of_date=j.period_end, value=j.value, edition_id=j.edition_id,
                    file_name=j.file_name, fiscal_year=j.period_start.year() + 1).order_by("as_of_date")


def funded_beds(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    obs = observations(con, vintage)
    return obs.filter(obs.measure == "funded_detention_beds").select("period_start", "period_end", "value",
                                                                     "edition_id", "source_url")


def removals_per_book_in_by_fy(con, *, vintage: Vintage = Latest()) -> ibis.Table:
    """Per fiscal year: removals (the year's last FYTD figure), initial book-ins (sum of the months, latest
    vintage, all agencies and ICE only), ERO administrative arrests where published, and the ratios.

    Only complete fiscal years (a FYTD removals figure dated Sep 30, i.e. from a year-end edition).
    Removals count every removal in the year whoever arrested and whether or not detained, so removals per
    book-in is a flow ratio, not the share of book-ins that ended in removal (see the cohort funnel).
    """
    r = removals_to_date(con, vintage=vintage)
    year_end = r.filter((r.as_of_date.month() == 9) & (r.as_of_date.day() == 30))
    year_end = year_end.group_by("fiscal_year").aggregate(removals=year_end.value.max(),
                                                          removals_edition=year_end.edition_id.max())
    b = latest_monthly(con, "book_ins", vintage=vintage)
    b = b.mutate(fiscal_year=_fiscal_year(b.month), agency=b.dims.get("agency"))
    per_fy = b.group_by("fiscal_year").aggregate(
        book_ins=b.value.sum(where=b.agency == "Total"),
        ice_book_ins=b.value.sum(where=b.agency == "ICE"),
        months=b.month.nunique(where=b.agency == "Total"),
    )
    obs = observations(con, vintage)
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
