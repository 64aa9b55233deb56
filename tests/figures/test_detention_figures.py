"""The detention figures over a chosen vintage, on the bundled national workbook figures."""
from __future__ import annotations

from datetime import date

from icetrack.figures import detention
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.vintage import KnownBy, Latest


def _january_2025(result) -> dict:
    (row,) = [r for r in result.rows if str(r["month"]).startswith("2025-01")]
    return row


def test_book_ins_as_they_stood_on_a_day_and_as_they_stand_now(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        latest = detention.table(wh, "book_ins", agency="ICE", vintage=Latest())
        then = detention.table(wh, "book_ins", agency="ICE", vintage=KnownBy(date(2025, 3, 1)))
        before = detention.table(wh, "book_ins", agency="ICE", vintage=KnownBy(date(2025, 1, 31)))
    # January 2025 ICE-arrested book-ins settle at 11,753; the editions public on 1 March 2025 said 11,755,
    # and on 31 January only the partial 2,363 (as of 6 January) was out.
    assert _january_2025(latest)["value"] == 11_753 and not _january_2025(latest)["partial"]
    assert _january_2025(then)["value"] == 11_755
    assert _january_2025(before)["value"] == 2_363 and _january_2025(before)["partial"]
    # every figure is cited to an edition the provenance names
    cited = {e["edition_id"] for e in then.editions}
    assert {r["edition_id"] for r in then.rows} <= cited


def test_workbook_funnel_removal_share_per_month(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        funnel = detention.workbook_funnel(wh)
    months = {r["month"]: r for r in funnel.rows}
    assert funnel.detail["monthly"] == funnel.rows
    for r in months.values():
        assert r["removal_share"] == round(r["removals"] / r["book_outs"], 4)
    assert months["2023-10"]["removal_share"] == 0.4777  # 47.8% in October 2023 (README)
    assert months["2025-08"]["removal_share"] == 0.9031  # 90.3% in August 2025 (README)
