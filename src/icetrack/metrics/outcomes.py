"""Outcomes of arrests: cohort funnel and time-to-outcome event tables (Ibis; DuckDB or Spark).

Definitions (stated in every output):
- **Cohort**: arrests with an identifier that are not ``duplicate_likely`` (one per arrest episode), grouped
  by the period of the arrest date (day, ISO week starting Monday, or month) and optionally one breakdown.
  Arrests without an identifier cannot be followed and are excluded (their count is reported).
- **State as of the release cut-off** of each cohort arrest, from the stay linked to it (arrest -> stay rule)
  and the stay's release reason:
  ``removed`` (reason mentions removal, or the stay is linked to a removal), ``released`` (any other
  release reason: bond, recognizance, supervision, parole, terminated proceedings, relief...),
  ``transferred`` (to the U.S. Marshals or another agency), ``detained`` (the stay is still open at the
  cut-off - censored, not an outcome), ``not_booked_in`` (no stay linked). ``removed_without_detention`` is
  an arrest with no stay whose person departed within ``direct_removal_days`` (30) after the arrest.
- **Time to outcome**: population = cohort arrests linked to a stay (origin ``arrest``) or every stay
  (origin ``book_in``); time = whole days from origin to the stay's end (floored); the event is the stay's
  outcome (removal, release, transfer) or censoring at the cut-off for open stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from icetrack.person.clean import release_cutoffs

DAY = 86_400
STATES = ("removed", "released", "transferred", "detained", "removed_without_detention", "not_booked_in")
CAUSES = ("removal", "release", "transfer")
PERIODS = ("day", "week", "month")
BREAKDOWNS = {
    "aor": "apprehension_aor",
    "criminality": "apprehension_criminality",
    "citizenship": "citizenship_country",
    "method": "apprehension_method",
    "program": "final_program",
}


@dataclass
class PersonTables:
    """The canonical and derived person-level tables as Ibis tables on one engine."""

    arrests: ibis.Table
    episodes: ibis.Table
    stays: ibis.Table
    arrest_links: ibis.Table
    removal_links: ibis.Table
    removals: ibis.Table
    cutoffs: ibis.Table  # release_id, cutoff, synthetic


def from_warehouse(con) -> PersonTables:
    """Materialized tables of the DuckDB warehouse."""
    t = con.table
    files = t("person_files")
    return PersonTables(t("arrests"), t("arrest_episodes"), t("detention_stays"), t("stay_arrest_links"),
                        t("stay_removal_links"), t("removals"), release_cutoffs(files))


def classify_reason(reason: ibis.StringValue) -> ibis.StringValue:
    r = reason.lower()
    return (ibis.cases(
        (r.contains("remov"), "removed"),
        (r.contains("transfer") | r.contains("marshal") | r.contains("other agency"), "transferred"),
        else_="released",
    ))


def _stay_key(s: ibis.Table) -> ibis.StringValue:
    return s.release_id + ":" + s.unique_identifier + ":" + s.stay_book_in.cast("string")


def stay_outcomes(pt: PersonTables) -> ibis.Table:
    """Every stay with its outcome: removed / released / transferred, or detained (open, censored)."""
    s = pt.stays.mutate(stay_key=_stay_key(pt.stays))
    linked_removal = pt.removal_links.select("stay_key", removal_linked=ibis.literal(True)).distinct()
    s = s.left_join(linked_removal, "stay_key").drop("stay_key_right")
    outcome = ibis.cases(
        (s.censored, "detained"),
        (s.removal_linked.notnull(), "removed"),
        (s.release_reason.isnull(), "released"),
        else_=classify_reason(s.release_reason),
    )
    return s.mutate(outcome=outcome)


def cohort(pt: PersonTables, period: str = "month", breakdown: str | None = None,
           direct_removal_days: float = 30) -> ibis.Table:
    """One row per cohort arrest: cohort period, breakdown value, state, release reason, stay key."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    a = pt.arrests.join(pt.episodes.filter(~pt.episodes.duplicate_likely).select("edition_id", "source_row"),
                        ["edition_id", "source_row"])
    a = a.filter(a.unique_identifier.notnull())
    a = a.mutate(arrest_key=a.edition_id + ":" + a.source_row.cast("string"))
    day = a.apprehension_date.date()
    cohort_start = {"day": day, "week": a.apprehension_date.truncate("W").date(),
                    "month": a.apprehension_date.truncate("M").date()}[period]
    group_value = (ibis.coalesce(a[BREAKDOWNS[breakdown]], "(missing)") if breakdown else ibis.literal("all"))
    a = a.mutate(cohort=cohort_start, group=group_value)
    outcomes = stay_outcomes(pt).select("stay_key", "outcome", "release_reason")
    links = pt.arrest_links.select("stay_key", "arrest_key")
    j = a.left_join(links, "arrest_key").drop("arrest_key_right")
    j = j.left_join(outcomes, "stay_key").drop("stay_key_right")
    # Removals of people never booked in (e.g. expedited removal or voluntary return without detention).
    r = pt.removals.filter(pt.removals.unique_identifier.notnull()).select(
        "release_id", "unique_identifier", departed=pt.removals.departed_date)
    direct = j.filter(j.stay_key.isnull()).join(r, ["release_id", "unique_identifier"])
    gap = (direct.departed.epoch_seconds() - direct.apprehension_date.epoch_seconds()) / DAY
    direct = direct.filter((gap >= 0) & (gap <= direct_removal_days)).select(
        "arrest_key", direct_removal=ibis.literal(True)).distinct()
    j = j.left_join(direct, "arrest_key").drop("arrest_key_right")
    state = ibis.cases(
        (j.stay_key.notnull(), j.outcome),
        (j.direct_removal.notnull(), "removed_without_detention"),
        else_="not_booked_in",
    )
    return j.select("release_id", "cohort", "group", "arrest_key", "stay_key", "release_reason", state=state)


def funnel(pt: PersonTables, period: str = "month", breakdown: str | None = None,
           direct_removal_days: float = 30) -> ibis.Table:
    """Counts per (cohort period, group, state)."""
    c = cohort(pt, period, breakdown, direct_removal_days)
    return c.group_by(["release_id", "cohort", "group", "state"]).aggregate(n=c.count()).order_by(
        ["release_id", "cohort", "group", "state"])


def release_reasons(pt: PersonTables, period: str = "month", breakdown: str | None = None) -> ibis.Table:
    """Counts of 'released' cohort arrests by release reason."""
    c = cohort(pt, period, breakdown)
    c = c.filter(c.state == "released")
    return c.group_by(["release_id", "cohort", "group", ibis.coalesce(c.release_reason, "(not stated)").name(
        "release_reason")]).aggregate(n=c.count()).order_by(["release_id", "cohort", "group", "release_reason"])


def event_table(pt: PersonTables, origin: str = "arrest", breakdown: str | None = None) -> ibis.Table:
    """Aggregated time-to-outcome table: per (group, whole days) the number censored and per cause."""
    outcomes = stay_outcomes(pt)
    if origin == "arrest":
        links = pt.arrest_links.select("stay_key", "arrest_key")
        a = pt.arrests.mutate(arrest_key=pt.arrests.edition_id + ":" + pt.arrests.source_row.cast("string"))
        a = a.select("arrest_key", "apprehension_date",
                     group=(ibis.coalesce(a[BREAKDOWNS[breakdown]], "(missing)") if breakdown
                            else ibis.literal("all")))
        j = outcomes.join(links, "stay_key").join(a, "arrest_key")
        start = j.apprehension_date
    elif origin == "book_in":
        j = outcomes
        if breakdown and breakdown not in ("criminality", "citizenship", "method"):
            raise ValueError("with origin book_in the breakdown must be criminality, citizenship or method")
        col = {"criminality": "book_in_criminality", "citizenship": "citizenship_country",
               "method": "apprehension_method"}.get(breakdown or "")
        j = j.mutate(group=ibis.coalesce(j[col], "(missing)") if col else ibis.literal("all"))
        start = j.stay_book_in
    else:
        raise ValueError("origin must be arrest or book_in")
    days = ((j.observed_until.epoch_seconds() - start.epoch_seconds()) / DAY).floor().cast("int64")
    j = j.mutate(t=ibis.greatest(days, 0))
    return j.group_by(["group", "t"]).aggregate(
        n_censored=(j.outcome == "detained").cast("int64").sum(),
        removal=(j.outcome == "removed").cast("int64").sum(),
        release=(j.outcome == "released").cast("int64").sum(),
        transfer=(j.outcome == "transferred").cast("int64").sum(),
    ).order_by(["group", "t"])


def flows(pt: PersonTables, stints: ibis.Table, period: str = "day") -> ibis.Table:
    """Aggregate flows needing no identifier: arrests, book-ins and removals per period (all rows, as
    published; duplicates are not removed because without identifiers they cannot be recognised)."""
    def events(t: ibis.Table, col: str, kind: str) -> ibis.Table:
        ts = t[col]
        start = {"day": ts.date(), "week": ts.truncate("W").date(), "month": ts.truncate("M").date()}[period]
        return t.filter(ts.notnull()).select(release_id=t.release_id, period_start=start, kind=ibis.literal(kind))

    u = (events(pt.arrests, "apprehension_date", "arrests")
         .union(events(stints, "book_in_date_time", "book_ins"))
         .union(events(pt.removals, "departed_date", "removals")))
    return u.group_by(["release_id", "period_start"]).aggregate(
        **{k: (u.kind == k).cast("int64").sum() for k in ("arrests", "book_ins", "removals")}
    ).order_by(["release_id", "period_start"])


def excluded_without_identifier(pt: PersonTables) -> ibis.Table:
    a = pt.arrests
    return a.group_by("release_id").aggregate(arrests=a.count(), without_identifier=a.unique_identifier.isnull().sum())
