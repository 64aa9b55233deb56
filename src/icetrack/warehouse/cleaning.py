"""Cleaning and linkage rules for person-level records (the Deportation Data Project's published rules).

Every rule is a pure Ibis expression over canonical tables, so it runs unchanged on DuckDB or Spark, and
every threshold is a parameter (defaults = the Deportation Data Project's rules). Nothing is deleted: a
rule flags, derives or links, and the warehouse reports how many records each rule touched.

Rules:
- **Arrest episodes**: within one identifier, records sorted by time; a new episode starts when the gap to
  the previous record exceeds ``episode_gap_hours`` (24). Later records of an episode are
  ``duplicate_likely``. Records without an identifier cannot be compared and are never flagged.
- **Stint duplicates**: stint rows identical in every field except the bond fields are one stint; the kept
  row carries the lowest bond amounts.
- **Stays**: a stay is the chain of (de-duplicated) stints of one identifier with the same stay book-in,
  and starts at its first stint's book-in (where a release's published stay book-in disagrees, that is
  counted in the cleaning log). Its book-out is the stay book-out when published, else the last stint's book-out; if any stint is still
  open the stay is open and *censored* at the release's cut-off (never imputed).
- **Arrest -> stay**: each stay is matched to the closest arrest of the same identifier whose time lies
  between ``arrest_after_book_in_days`` (5) after and ``arrest_before_book_in_days`` (10) before the stay
  book-in, one-to-one (closest pairs first).
- **Stay -> removal**: a removal whose departure lies between ``removal_before_book_out_days`` (5) before and
  ``removal_after_book_out_days`` (10) after the stay book-out, one-to-one (closest first).
- Identifiers differ between releases: every rule works within one ``release_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import ibis

DAY = 86_400


@dataclass(frozen=True)
class CleaningParams:
    episode_gap_hours: float = 24
    arrest_before_book_in_days: float = 10
    arrest_after_book_in_days: float = 5
    removal_before_book_out_days: float = 5
    removal_after_book_out_days: float = 10
    # Rounds of mutual-best matching; measured on synthetic releases, matches found after round 2 are
    # < 0.01% of links, and every round costs a full pass (and, on Spark, seconds of planning).
    max_matching_rounds: int = 2

    def as_dict(self) -> dict:
        return asdict(self)


def release_cutoffs(person_files: ibis.Table) -> ibis.Table:
    """(release_id, cutoff, synthetic) per release, from the person_files table."""
    f = person_files
    return f.group_by("release_id").aggregate(cutoff=f.cutoff.max(), synthetic=f.synthetic.any())


def _secs(col):
    return col.epoch_seconds()


def arrest_episodes(arrests: ibis.Table, p: CleaningParams) -> ibis.Table:
    """One row per arrest record: its episode number within the identifier and the duplicate flag."""
    has_id = arrests.unique_identifier.notnull()
    w = ibis.window(group_by=[arrests.release_id, arrests.unique_identifier],
                    order_by=[arrests.apprehension_date, arrests.edition_id, arrests.source_row])
    previous = arrests.apprehension_date.lag().over(w)
    gap = _secs(arrests.apprehension_date) - _secs(previous)
    starts = previous.isnull() | (gap > p.episode_gap_hours * 3600) | ~has_id
    flagged = arrests.mutate(starts_episode=starts)
    w2 = ibis.cumulative_window(group_by=[flagged.release_id, flagged.unique_identifier],
                                order_by=[flagged.apprehension_date, flagged.edition_id, flagged.source_row])
    return flagged.select(
        "release_id", "edition_id", "source_row", "unique_identifier", "apprehension_date",
        # without an identifier a record is its own episode; an episode number would mean nothing
        episode_no=ibis.ifelse(flagged.unique_identifier.notnull(),
                               flagged.starts_episode.cast("int64").sum().over(w2), ibis.null("int64")),
        duplicate_likely=~flagged.starts_episode,
    )


STINT_KEY = ("release_id", "unique_identifier", "book_in_date_time", "detention_book_out_date_time",
             "stay_book_in_date_time", "stay_book_out_date_time", "detention_facility_code", "detention_facility",
             "detention_release_reason", "stay_release_reason", "book_in_criminality", "apprehension_method",
             "case_category", "most_serious_conviction", "citizenship_country", "gender", "birth_year")


def deduplicated_stints(stints: ibis.Table) -> ibis.Table:
    """Stints with rows identical but for bond fields collapsed; keeps the lowest bond amounts.

    Only rows with an identifier can be duplicates: without one, two identical rows are two people with
    the same attributes (e.g. the Seattle book-ins), so each such row is its own group.
    """
    stints = stints.mutate(row_if_anonymous=ibis.ifelse(stints.unique_identifier.isnull(), stints.source_row,
                                                        ibis.null("int64")),
                           edition_if_anonymous=ibis.ifelse(stints.unique_identifier.isnull(), stints.edition_id,
                                                            ibis.null("string")))
    return stints.group_by([*STINT_KEY, "row_if_anonymous", "edition_if_anonymous"]).aggregate(
        edition_id=stints.edition_id.min(),
        source_row=stints.source_row.min(),
        copies=stints.count(),
        initial_bond_set_amount=stints.initial_bond_set_amount.min(),
        bond_posted_amount=stints.bond_posted_amount.min(),
        bond_posted_date=stints.bond_posted_date.min(),
        synthetic=stints.synthetic.any(),
    ).drop("row_if_anonymous", "edition_if_anonymous")


def stays(stints: ibis.Table, cutoffs: ibis.Table) -> ibis.Table:
    """Detention stays from de-duplicated stints (identifier required); open stays censored at the cut-off.

    ``cutoffs``: (release_id, cutoff timestamp) - the release's data cut-off.
    """
    s = stints.filter(stints.unique_identifier.notnull() & stints.book_in_date_time.notnull())
    stay_start = ibis.coalesce(s.stay_book_in_date_time, s.book_in_date_time)
    s = s.mutate(stay_start=stay_start)
    w = ibis.window(group_by=[s.release_id, s.unique_identifier, s.stay_start],
                    order_by=[s.book_in_date_time, s.source_row])
    s = s.mutate(
        stint_no=ibis.row_number().over(w) + 1,  # ibis numbers rows from 0
        n_stints=s.count().over(ibis.window(group_by=[s.release_id, s.unique_identifier, s.stay_start])),
    )
    g = s.group_by(["release_id", "unique_identifier", "stay_start"]).aggregate(
        n_stints=s.n_stints.max(),
        open_stints=s.detention_book_out_date_time.isnull().sum(),
        published_stay_book_out=s.stay_book_out_date_time.max(),
        last_stint_book_out=s.detention_book_out_date_time.max(),
        stay_release_reason=s.stay_release_reason.max(),
        last_release_reason=s.detention_release_reason.arbitrary(where=s.stint_no == s.n_stints),
        first_facility=s.detention_facility_code.arbitrary(where=s.stint_no == 1),
        last_facility=s.detention_facility_code.arbitrary(where=s.stint_no == s.n_stints),
        book_in_criminality=s.book_in_criminality.arbitrary(where=s.stint_no == 1),
        apprehension_method=s.apprehension_method.arbitrary(where=s.stint_no == 1),
        citizenship_country=s.citizenship_country.arbitrary(),
        gender=s.gender.arbitrary(),
        edition_id=s.edition_id.min(),
        synthetic=s.synthetic.any(),
        first_book_in=s.book_in_date_time.min(),
    )
    g = g.join(cutoffs, "release_id", how="left")
    # The stay starts at its first stint's book-in. Some releases publish a 'stay book-in' that is not that
    # date (joined_df_wa.csv carries the stay's book-out there); it still identifies the chain.
    g = g.mutate(published_stay_book_in=g.stay_start, stay_start=g.first_book_in)
    is_open = (g.open_stints > 0) & g.published_stay_book_out.isnull()
    book_out = ibis.ifelse(is_open, ibis.null("timestamp"),
                           ibis.coalesce(g.published_stay_book_out, g.last_stint_book_out))
    # A book-out after the cut-off cannot have been observed; treat it as open (defensive: bad source rows).
    book_out = ibis.ifelse(g.cutoff.notnull() & (book_out > g.cutoff), ibis.null("timestamp"), book_out)
    censored = book_out.isnull()
    end = ibis.ifelse(censored, g.cutoff, book_out)
    return g.select(
        "release_id", "unique_identifier", "edition_id", "synthetic", "n_stints", "first_facility", "last_facility",
        "book_in_criminality", "apprehension_method", "citizenship_country", "gender",
        stay_book_in=g.stay_start,
        published_stay_book_in_differs=g.published_stay_book_in != g.first_book_in,
        stay_book_out=book_out,
        censored=censored,
        release_reason=ibis.ifelse(censored, ibis.null("string"),
                                   ibis.coalesce(g.stay_release_reason, g.last_release_reason)),
        observed_until=end,
        duration_days=(_secs(end) - _secs(g.stay_start)) / DAY,
    )


# A stay is identified by these columns. The links also carry them (and the arrest's edition_id and
# source_row as arrest_edition_id, arrest_source_row) besides the readable text keys stay_key and
# arrest_key: joining on the columns avoids building and hashing ~100-character strings per row.
STAY_KEY_COLUMNS = ("release_id", "unique_identifier", "stay_book_in")
ARREST_LINK_KEY_COLUMNS = (*STAY_KEY_COLUMNS, "arrest_edition_id", "arrest_source_row")


def stay_key(s: ibis.Table) -> ibis.StringValue:
    """The readable key of a stay: release:identifier:book-in."""
    return s.release_id + ":" + s.unique_identifier + ":" + s.stay_book_in.cast("string")


def _one_to_one(candidates: ibis.Table, left: tuple[str, ...], right: tuple[str, ...], tiebreak: tuple[str, ...],
                rounds: int, materialize=None) -> ibis.Table:
    """Greedy one-to-one matching by smallest |difference|: repeatedly take mutual best pairs.

    ``candidates`` has the key columns ``left`` and ``right`` (each side's identity, as columns: partitioning
    and anti-joining on them is several times cheaper than on a concatenated text key), ``absdiff`` and the
    ``tiebreak`` columns. Each round keeps pairs that are the best for both sides, then removes their
    endpoints. Iterated, this is the greedy closest-first assignment. ``materialize`` (a temporary table on
    DuckDB, a cache on Spark) is applied to each round's result so no round recomputes the ones before it.
    """
    materialize = materialize or (lambda e: e)
    rounds_best = []
    remaining = materialize(candidates)
    for n in range(rounds):
        order = [remaining.absdiff, *(remaining[c] for c in tiebreak)]
        lw = ibis.window(group_by=[remaining[c] for c in left], order_by=order)
        rw = ibis.window(group_by=[remaining[c] for c in right], order_by=order)
        ranked = remaining.mutate(lr=ibis.row_number().over(lw), rr=ibis.row_number().over(rw))
        best = materialize(ranked.filter((ranked.lr == 0) & (ranked.rr == 0)).drop("lr", "rr"))
        rounds_best.append(best)
        if n < rounds - 1:  # what is left only matters to a next round
            remaining = materialize(remaining.anti_join(best, list(left)).anti_join(best, list(right)))
    # Each round's pairs once, read where they were materialized: no copy of the earlier rounds per round.
    return rounds_best[0].union(*rounds_best[1:], distinct=False) if len(rounds_best) > 1 else rounds_best[0]


def _row_key(edition_id, source_row) -> ibis.StringValue:
    """The readable key of a source record: edition:row."""
    return edition_id + ":" + source_row.cast("string")


def link_arrests_to_stays(episodes: ibis.Table, stay_table: ibis.Table, p: CleaningParams,
                          materialize=None) -> ibis.Table:
    """(stay key, arrest key, their key columns, days from arrest to book-in) for matched pairs: the arrests
    that start an episode (``episodes`` carries each arrest's identifier and time, so the raw table is not
    read again)."""
    a = episodes.filter(~episodes.duplicate_likely & episodes.unique_identifier.notnull()).select(
        "release_id", "unique_identifier", arrest_time=episodes.apprehension_date,
        arrest_edition_id=episodes.edition_id, arrest_source_row=episodes.source_row)
    s = stay_table.select(*STAY_KEY_COLUMNS)
    j = s.join(a, ["release_id", "unique_identifier"])
    diff = (_secs(j.stay_book_in) - _secs(j.arrest_time)) / DAY  # > 0: arrest before book-in
    # Ties broken by the arrest's readable key, edition:row, compared as text (edition ids have one length
    # per source, so (edition, row as text) orders exactly as that key does).
    cand = j.filter((diff <= p.arrest_before_book_in_days) & (diff >= -p.arrest_after_book_in_days)).select(
        *ARREST_LINK_KEY_COLUMNS, days_arrest_to_book_in=diff, absdiff=diff.abs(),
        tiebreak_row=j.arrest_source_row.cast("string"))
    m = _one_to_one(cand, STAY_KEY_COLUMNS, ("arrest_edition_id", "arrest_source_row"),
                    ("arrest_edition_id", "tiebreak_row"), p.max_matching_rounds, materialize)
    # The readable keys only for the matched pairs, not for every candidate.
    m = m.mutate(stay_key=stay_key(m), arrest_key=_row_key(m.arrest_edition_id, m.arrest_source_row))
    return m.select("stay_key", "arrest_key", *ARREST_LINK_KEY_COLUMNS, "days_arrest_to_book_in")


def link_stays_to_removals(stay_table: ibis.Table, removals: ibis.Table, p: CleaningParams,
                           materialize=None) -> ibis.Table:
    r = removals.filter(removals.unique_identifier.notnull() & removals.departed_date.notnull()).select(
        "release_id", "unique_identifier", departed=removals.departed_date,
        removal_edition_id=removals.edition_id, removal_source_row=removals.source_row)
    s = stay_table.filter(stay_table.stay_book_out.notnull()).select(*STAY_KEY_COLUMNS, "stay_book_out")
    j = s.join(r, ["release_id", "unique_identifier"])
    diff = (_secs(j.departed) - _secs(j.stay_book_out)) / DAY  # > 0: departed after book-out
    cand = j.filter((diff >= -p.removal_before_book_out_days) & (diff <= p.removal_after_book_out_days)).select(
        *STAY_KEY_COLUMNS, "removal_edition_id", "removal_source_row", days_book_out_to_departure=diff,
        absdiff=diff.abs(), tiebreak_row=j.removal_source_row.cast("string"))
    m = _one_to_one(cand, STAY_KEY_COLUMNS, ("removal_edition_id", "removal_source_row"),
                    ("removal_edition_id", "tiebreak_row"), p.max_matching_rounds, materialize)
    m = m.mutate(stay_key=stay_key(m), removal_key=_row_key(m.removal_edition_id, m.removal_source_row))
    return m.select("stay_key", "removal_key", *STAY_KEY_COLUMNS, "days_book_out_to_departure")


def derived_tables(canonical: Callable[[str], ibis.Table], p: CleaningParams,
                   store: Callable[[str, ibis.Table], ibis.Table],
                   materialize_rounds: Callable[[ibis.Table], ibis.Table] | None = None) -> dict[str, ibis.Table]:
    """The derived person-level tables built from the canonical ones, in order, on any engine: the one
    pipeline. ``canonical(name)`` gives a canonical table; ``store(name, expr)`` keeps one derived table
    (a warehouse table on DuckDB, a cached DataFrame on Spark) and returns what later steps read;
    ``materialize_rounds`` is applied to each matching round (see :func:`_one_to_one`)."""
    out = {"arrest_episodes": store("arrest_episodes", arrest_episodes(canonical("arrests"), p))}
    out["detention_stints_dedup"] = store("detention_stints_dedup", deduplicated_stints(canonical("detention_stints")))
    out["detention_stays"] = store("detention_stays", stays(out["detention_stints_dedup"],
                                                            release_cutoffs(canonical("person_files"))))
    links = link_arrests_to_stays(out["arrest_episodes"], out["detention_stays"], p, materialize_rounds)
    out["stay_arrest_links"] = store("stay_arrest_links", links)
    links = link_stays_to_removals(out["detention_stays"], canonical("removals"), p, materialize_rounds)
    out["stay_removal_links"] = store("stay_removal_links", links)
    return out
