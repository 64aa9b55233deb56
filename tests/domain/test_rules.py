"""The counting rules, each owned once by icetrack.domain.rules, on hand-computed cases."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from icetrack.domain import rules


@pytest.mark.parametrize("day, year", [(date(2024, 9, 30), 2024), (date(2024, 10, 1), 2025),
                                       (date(2025, 1, 20), 2025), (date(2025, 12, 31), 2026)])
def test_fiscal_year_runs_october_to_september_named_by_its_end(day, year):
    assert rules.fiscal_year(day) == year
    assert rules.fiscal_year_start(year) <= day


def test_the_as_of_month_counts_only_up_to_the_as_of_date():
    assert rules.is_partial(date(2025, 1, 31), date(2025, 1, 6)) is True
    assert rules.is_partial(date(2024, 12, 31), date(2025, 1, 6)) is False
    assert rules.is_partial(date(2025, 1, 31), date(2025, 1, 31)) is False
    assert rules.is_partial(date(2025, 1, 31), None) is False  # an undated edition counts as complete


def test_book_out_classes_never_count_a_bond_twice():
    assert rules.book_out_class("Release to Remove") == "removal"
    assert rules.book_out_class("Bonded Out") == "release"
    assert {rules.book_out_class(p) for p in rules.BOND_PARTS} == {"bond_detail"}  # detail rows of 'Bonded Out'
    assert rules.book_out_class("Transfer to U.S. Marshals or other agency") == "transfer"
    assert rules.book_out_class("A reason ICE adds next year") == "other"
    assert set(rules.BOOK_OUT_CLASS.values()) - {"bond_detail"} == set(rules.OUTCOME_CLASSES)


def test_removal_share_is_removals_over_all_final_book_outs():
    # transfers stay in the denominator: 600 removals, 300 releases, 100 transfers -> 60%
    assert rules.removal_share(600, 600 + 300 + 100) == pytest.approx(0.6)


def test_latest_vintage_order():
    t = datetime(2025, 3, 1, 12)
    candidates = {
        "older_as_of": (date(2025, 1, 6), None, t, "e3"),
        "newest_as_of": (date(2025, 2, 27), date(2025, 2, 20), t, "e1"),
        "same_as_of_ingested_later": (date(2025, 2, 27), None, datetime(2025, 3, 2), "e0"),
        "publication_date_only": (None, date(2025, 2, 1), t, "e9"),
        "undated": (None, None, datetime(2026, 1, 1), "e8"),
    }
    order = sorted(candidates, key=lambda k: rules.newest_first_key(*candidates[k]))
    assert order == ["same_as_of_ingested_later", "newest_as_of", "publication_date_only", "older_as_of", "undated"]
    # the last tie-break: the greater edition id first, a longer id before its own prefix
    assert rules.newest_first_key(None, None, t, "ab") > rules.newest_first_key(None, None, t, "abc")
