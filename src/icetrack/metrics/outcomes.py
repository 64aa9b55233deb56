"""Outcomes of arrests: cohort funnel and time-to-outcome event tables (Ibis; DuckDB or Spark).

The definitions stated in every output are :data:`icetrack.domain.definitions.OUTCOMES`; a person-level
release reason's outcome follows :data:`icetrack.domain.rules.PERSON_REASON_OUTCOMES`.
"""

from __future__ import annotations

import ibis

from icetrack.domain import rules
from icetrack.warehouse import cleaning as clean
from icetrack.warehouse.engines import PersonTables

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


def classify_reason(reason: ibis.StringValue) -> ibis.StringValue:
    """:data:`icetrack.domain.rules.PERSON_REASON_OUTCOMES` as an Ibis expression."""
    r = reason.lower()
    return ibis.cases(*[(ibis.or_(*[r.contains(w) for w in words]), state)
                        for words, state in rules.PERSON_REASON_OUTCOMES],
                      else_=rules.PERSON_REASON_DEFAULT)


def _with_outcome(stays: ibis.Table, removal_links: ibis.Table) -> ibis.Table:
    """``stays`` (any table with the stay key columns, ``censored`` and ``release_reason``) with the
    outcome: removed / released / transferred, or detained (open, censored)."""
    # No DISTINCT needed: the stay -> removal match is one-to-one, so a stay has at most one link.
    linked = removal_links.select(*clean.STAY_KEY_COLUMNS, removal_linked=ibis.literal(True))
    s = stays.left_join(linked, list(clean.STAY_KEY_COLUMNS))
    outcome = ibis.cases(
        (s.censored, "detained"),
        (s.removal_linked.notnull(), "removed"),
        (s.release_reason.isnull(), "released"),
        else_=classify_reason(s.release_reason),
    )
    return s.select(*stays.columns, outcome=outcome)


def stay_outcomes(pt: PersonTables) -> ibis.Table:
    """Every stay with its outcome: removed / released / transferred, or detained (open, censored)."""
    return _with_outcome(pt.stays, pt.removal_links)


def arrest_outcomes(pt: PersonTables) -> ibis.Table:
    """One row per cohort arrest (identifier present, not ``duplicate_likely``): ``release_id,
    unique_identifier, edition_id, source_row, apprehension_date``; ``linked`` (matched to a stay) with that
    stay's ``outcome``, ``release_reason`` and ``observed_until``. Built once per :class:`PersonTables` (see
    there)."""
    if pt._arrest_outcomes is None:
        expr = _arrest_outcomes(pt)
        pt._arrest_outcomes = pt.materialize(expr) if pt.materialize else expr
    return pt._arrest_outcomes


def _arrest_outcomes(pt: PersonTables) -> ibis.Table:
    e = pt.episodes
    a = e.filter(~e.duplicate_likely & e.unique_identifier.notnull()).select(
        "release_id", "unique_identifier", "edition_id", "source_row", "apprehension_date")
    arrest_key = ["edition_id", "source_row"]
    links = pt.arrest_links.select(*clean.STAY_KEY_COLUMNS, edition_id=pt.arrest_links.arrest_edition_id,
                                   source_row=pt.arrest_links.arrest_source_row, linked=ibis.literal(True))
    stays = pt.stays.select(*clean.STAY_KEY_COLUMNS, "censored", "release_reason", "observed_until")
    ls = links.left_join(stays, list(clean.STAY_KEY_COLUMNS))
    ls = ls.select(*clean.STAY_KEY_COLUMNS, *arrest_key, "linked", "censored", "release_reason", "observed_until")
    ls = _with_outcome(ls, pt.removal_links)
    j = a.left_join(ls, arrest_key)
    return j.select(*a.columns, linked=j.linked.notnull(), outcome=j.outcome, release_reason=j.release_reason,
                    observed_until=j.observed_until)


def _days_to_departure(pt: PersonTables, arrests: ibis.Table) -> ibis.Table:
    """For the arrests not linked to a stay: days from the arrest to the person's first departure at or after
    it (removals of people never booked in, e.g. expedited removal or voluntary return without detention);
    arrests with no such departure are absent."""
    unlinked = arrests.filter(~arrests.linked)
    r = pt.removals.filter(pt.removals.unique_identifier.notnull())
    d = unlinked.join(r.select("release_id", "unique_identifier", departed=r.departed_date),
                      ["release_id", "unique_identifier"])
    gap = (d.departed.epoch_seconds() - d.apprehension_date.epoch_seconds()) / DAY
    return d.filter(gap >= 0).group_by(["edition_id", "source_row"]).aggregate(days_to_departure=gap.min())


def _cohort_start(ts: ibis.TimestampValue, period: str) -> ibis.DateValue:
    return {"day": ts.date(), "week": ts.truncate("W").date(), "month": ts.truncate("M").date()}[period]


def _with_group(t: ibis.Table, arrests: ibis.Table, breakdown: str | None) -> ibis.Table:
    """``t`` (rows of arrests, by edition_id and source_row) with the breakdown value as ``group``."""
    if not breakdown:
        return t.mutate(group=ibis.literal("all"))
    col = BREAKDOWNS[breakdown]
    values = arrests.select("edition_id", "source_row", group=ibis.coalesce(arrests[col], "(missing)"))
    return t.join(values, ["edition_id", "source_row"])


def cohort(pt: PersonTables, period: str = "month", breakdown: str | None = None,
           direct_removal_days: float = 30) -> ibis.Table:
    """One row per cohort arrest: release, cohort period, breakdown value, arrest (edition_id, source_row),
    release reason and state."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    c = arrest_outcomes(pt)
    c = c.left_join(_days_to_departure(pt, c), ["edition_id", "source_row"])
    c = _with_group(c.drop("edition_id_right", "source_row_right"), pt.arrests, breakdown)
    state = ibis.cases(
        (c.linked, c.outcome),
        (c.days_to_departure <= direct_removal_days, "removed_without_detention"),
        else_="not_booked_in",
    )
    return c.select("release_id", cohort=_cohort_start(c.apprehension_date, period), group=c.group,
                    edition_id=c.edition_id, source_row=c.source_row, release_reason=c.release_reason, state=state)


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
    if origin == "arrest":
        j = arrest_outcomes(pt)
        j = _with_group(j.filter(j.outcome.notnull()), pt.arrests, breakdown)
        start = j.apprehension_date
    elif origin == "book_in":
        j = stay_outcomes(pt)
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
