"""The series the targets ledger scores, and the bridges between concepts it may cross - both explicit.

A target counts one concept ("arrests", "removals", a detained population against beds). An official series
often counts something else: ICE publishes initial book-ins, not arrests. The ledger never mixes them
silently. Each :class:`LedgerSeries` states what it counts, how a per-day figure is formed from it and how
it may be read against a target of its concept (``reading``):

- ``as_published``: the figure is of the target's concept (ICE's posted daily arrests);
- ``lower_bound``: the figure counts a subset of the concept (book-ins: people arrested and not detained are
  missing), so a shortfall is an upper bound on the real one and reaching the target proves it was reached;
- ``estimate``: the figure is bridged to the concept (:class:`Bridge`) and carries the bridge's interval;
- ``rate_between_editions``: a rate formed from two editions' cumulative figures;
- ``level``: a population compared with beds (occupancy), never added up over days.

A bridge has a version; a changed method is a new version, so every output can say which one it used.
"""

from __future__ import annotations

from dataclasses import dataclass

READINGS = {
    "as_published": "counts the target's concept as published",
    "lower_bound": "counts a subset of the target's concept: a lower bound on it",
    "estimate": "bridged to the target's concept; carries the bridge's interval",
    "rate_between_editions": "a rate between the as-of dates of two editions' cumulative figures",
    "level": "a population compared with the beds in force (occupancy), averaged, never summed",
}


@dataclass(frozen=True)
class Bridge:
    """Estimated arrests from book-ins: per day = book-ins per day / share of ICE arrests that are booked in."""

    id: str
    version: int
    label: str
    text: str
    # Fiscal years whose share (ICE-arrested book-ins / ERO administrative arrests) bounds the interval, and
    # the one giving the central value; each share is computed from loaded figures, never typed in.
    share_years: tuple[int, ...]
    central_year: int
    arrests_measure: str  # fiscal-year totals of ERO administrative arrests (annual reports)
    book_ins_measure: str
    book_ins_dims_key: str
    person_level: str  # how a loaded national person-level release replaces the annual share, per month
    changes: str = ""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


ARRESTS_FROM_BOOK_INS = Bridge(
    id="arrests.from_book_ins", version=1, label="Estimated ICE arrests (from book-ins)",
    text=("Estimated ICE arrests per day = ICE-arrested initial book-ins per day / the share of ICE's arrests "
          "that are booked into detention. The central share is FY2024's (ICE-arrested book-ins in the FY2024 "
          "workbook / ERO administrative arrests in ICE's FY2024 annual report); the interval spans the shares "
          "of every fiscal year whose two figures are both loaded (bundled: FY2019, FY2023, FY2024). The share "
          "moves with policy (fewer releases at arrest raise it), which is why the interval is wide."),
    share_years=(2019, 2023, 2024), central_year=2024,
    arrests_measure="ero_administrative_arrests", book_ins_measure="book_ins", book_ins_dims_key="agency=ICE",
    person_level=("When a national person-level release is loaded, months it covers use that month's share: "
                  "arrests (one per 24-hour episode) linked to a detention stay / arrests, with a 95% Wilson "
                  "interval; months outside it keep the annual-report share and interval."),
)
BRIDGES = {ARRESTS_FROM_BOOK_INS.id: ARRESTS_FROM_BOOK_INS}


@dataclass(frozen=True)
class LedgerSeries:
    id: str
    label: str
    concept: str  # the concept of the targets it is scored against
    reading: str  # one of READINGS
    native_grain: str  # 'day', 'month', 'interval' (between editions) or 'snapshot' (one day per edition)
    definition: str  # the catalogue definition it measures (domain.catalogue.DEFINITIONS)
    method: str  # how a period's per-day figure is formed
    bridge: str | None = None

    @property
    def is_level(self) -> bool:
        return self.reading == "level"


LEDGER_SERIES: dict[str, LedgerSeries] = {s.id: s for s in [
    LedgerSeries(
        "arrests.ice_posted", "ICE posted arrests", "arrests", "as_published", "day", "arrests.ice_posted",
        "The daily figures of ICE's January 2025 posts, dated by the post; a period's per-day figure is its "
        "total over the days posted / those days (days without a post are missing, not zero)."),
    LedgerSeries(
        "arrests.person_level", "ICE arrests in the person-level release", "arrests", "as_published", "day",
        "arrests.ero_administrative",
        "Arrests in a loaded national person-level release, one per 24-hour arrest episode, by apprehension "
        "day; days after the release's cut-off are missing. Days below the small-cell threshold are "
        "suppressed, and so is every period containing one."),
    LedgerSeries(
        "book_ins.ice_arrested", "ICE-arrested book-ins", "arrests", "lower_bound", "month", "book_ins.ice_arrested",
        "The month's ICE-arrested initial book-ins (latest edition holding the month) / the days it covers: the "
        "whole month, or for an edition's as-of month the days up to its book-ins table date."),
    LedgerSeries(
        "arrests.estimated", "Estimated ICE arrests", "arrests", "estimate", "month", "arrests.ero_administrative",
        "ICE-arrested book-ins per day / the share of ICE arrests booked in (bridge arrests.from_book_ins).",
        bridge="arrests.from_book_ins"),
    LedgerSeries(
        "removals.between_editions", "ICE removals (rate between editions)", "removals", "rate_between_editions",
        "interval", "removals.ice",
        "(removals to date of an edition - of the previous edition of the same fiscal year) / days between "
        "their table dates; the first edition of a fiscal year counts from October 1. A period's rate is the "
        "day-weighted rate of the spans overlapping it (the cumulative count read linearly between editions)."),
    LedgerSeries(
        "detained.snapshot", "Currently detained (snapshot)", "detained_population", "level", "snapshot",
        "detained.snapshot",
        "People detained on each edition's snapshot date; a period's figure is the mean of its snapshots."),
    LedgerSeries(
        "detained.adp_midnight", "Average daily population", "detained_population", "level", "month",
        "detained.adp_midnight",
        "The month's average daily population (midnight headcounts), latest edition; longer periods are "
        "day-weighted means of their months."),
]}

# The series each native grain can be read at (a month total cannot be split into days or weeks).
READABLE_GRAINS = {
    "day": ("day", "week", "month", "fytd"),
    "month": ("month", "fytd"),
    "interval": ("month", "fytd"),
    "snapshot": ("day", "week", "month", "fytd"),
}
