"""The one vintage type: Latest, KnownBy, Edition and AllVintages over hand-built editions, and the warehouse's
order agreeing with the rule as domain.rules states it."""
from __future__ import annotations

from datetime import date

import pytest

from icetrack.domain import rules
from icetrack.domain.edition import EditionInfo, ParsedSource, observations_table
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.vintage import AllVintages, Edition, KnownBy, Latest, parse_vintage

JAN = (date(2025, 1, 1), date(2025, 1, 31))


def _edition(name: str, value: float, as_of: date | None, published_on: date | None) -> ParsedSource:
    edition = EditionInfo(source="test", publisher="tests", file_name=name, sha256=(name.encode().hex() * 64)[:64],
                          size_bytes=1, parser_version="test", as_of=as_of, published_on=published_on)
    return ParsedSource(edition, observations_table([
        {"measure": "book_ins", "dims": {"agency": "ICE"}, "period_start": JAN[0], "period_end": JAN[1],
         "grain": "month", "value": value, "unit": "book-ins"}]))


@pytest.fixture
def wh(tmp_path):
    w = open_warehouse(tmp_path / "w.duckdb", load_reference=False)
    # published in this order; the as-of dates say which data is newest
    w.load(_edition("early.xlsx", 2_363, date(2025, 1, 6), date(2025, 1, 10)))
    w.load(_edition("late.xlsx", 11_753, date(2025, 9, 2), date(2025, 9, 11)))
    w.load(_edition("mid.xlsx", 11_758, date(2025, 3, 3), date(2025, 3, 12)))
    w.load(_edition("undated.xlsx", 9_999, None, None))
    yield w
    w.close()


def _values(wh, vintage) -> list[float]:
    return sorted(r["value"] for r in wh.series_arrow("book_ins", vintage=vintage).to_pylist())


def test_each_vintage_picks_the_editions_it_names(wh):
    assert _values(wh, Latest()) == [11_753]  # the latest as-of date, not the last loaded
    assert _values(wh, KnownBy(date(2025, 3, 31))) == [11_758]  # what was public on that day
    assert _values(wh, KnownBy(date(2025, 1, 9))) == []  # nothing published yet
    # an undated edition counts from its as-of date, else from the start of the period its figure describes
    assert _values(wh, KnownBy(date(2025, 1, 9), undated="from_as_of")) == [9_999]
    assert _values(wh, KnownBy(date(2025, 1, 10), undated="from_as_of")) == [2_363]
    assert _values(wh, AllVintages()) == [2_363, 9_999, 11_753, 11_758]
    undated = next(e for e in wh.editions().itertuples() if e.file_name == "undated.xlsx").edition_id
    assert _values(wh, Edition(undated)) == [9_999]


def test_text_vintages_parse_to_the_same_type():
    assert parse_vintage("latest") == Latest() and parse_vintage("all") == AllVintages()
    assert parse_vintage("ice:abc") == Edition("ice:abc") and parse_vintage(Latest()) == Latest()
    with pytest.raises(ValueError):
        KnownBy(date(2025, 1, 1), undated="sometimes")


def test_the_warehouse_order_is_the_rule_domain_states(wh):
    editions = wh.editions()
    first = min(editions.itertuples(), key=lambda e: rules.newest_first_key(
        None if e.as_of is None or str(e.as_of) == "NaT" else e.as_of,
        None if e.published_on is None or str(e.published_on) == "NaT" else e.published_on,
        e.ingested_at.to_pydatetime(), e.edition_id))
    (latest,) = wh.series_arrow("book_ins", vintage=Latest()).to_pylist()
    assert latest["edition_id"] == first.edition_id
