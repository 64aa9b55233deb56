"""Two copies of one data date that disagree: the figure is cited to the edition (and file) that holds it."""
from __future__ import annotations

from datetime import date

import pytest

from icetrack.domain.edition import EditionInfo, ParsedSource, observations_table
from icetrack.metrics import detention as det
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.vintage import Edition, KnownBy

AS_OF = date(2025, 2, 27)
FY_START = date(2024, 10, 1)


def _copy(file_name: str, sha_char: str, detained: float, removals: float) -> ParsedSource:
    edition = EditionInfo(source="ice_detention_stats", publisher="ICE", file_name=file_name,
                          sha256=sha_char * 64, size_bytes=1, parser_version="test", as_of=AS_OF,
                          published_on=date(2025, 2, 28))
    rows = [
        {"measure": "currently_detained", "dims": {"agency": "Total", "criminality": "Total"},
         "period_start": AS_OF, "period_end": AS_OF, "grain": "snapshot", "value": detained, "unit": "people"},
        {"measure": "removals_fytd", "dims": {}, "period_start": FY_START, "period_end": AS_OF, "grain": "fytd",
         "value": removals, "unit": "removals"},
    ]
    return ParsedSource(edition, observations_table(rows))


@pytest.fixture
def two_copies(tmp_path):
    """Edition 'a...' (larger values, smaller file name) loaded first, edition 'f...' loaded last: the newest
    ingested copy is 'f...', whose figures are the SMALLER ones - taking max(value) and max(edition_id)
    separately would cite 'f...' for a's figures."""
    wh = open_warehouse(tmp_path / "w.duckdb", load_reference=False)
    first = wh.load(_copy("b_detentionStats.xlsx", "a", 48_000, 150_000))
    last = wh.load(_copy("a_detentionStats (1).xlsx", "f", 47_000, 149_000))
    yield wh, first.edition_id, last.edition_id
    wh.close()


def _held(wh, edition_id: str, measure: str) -> float:
    rows = wh.series_arrow(measure, vintage=Edition(edition_id)).to_pylist()
    assert len(rows) == 1
    return rows[0]["value"]


def test_detained_snapshot_is_cited_to_the_copy_that_holds_it(two_copies):
    wh, first, last = two_copies
    rows = det.detained_snapshots(wh.ibis()).to_pandas().to_dict("records")
    assert len(rows) == 1
    row = rows[0]
    assert row["copies"] == 2
    assert row["edition_id"] == last  # the newest ingested copy, as the latest-vintage rule picks
    assert row["value"] == _held(wh, row["edition_id"], "currently_detained") == 47_000
    assert row["file_name"] == wh.edition_file_name(row["edition_id"])


def test_removals_to_date_are_cited_to_the_copy_that_holds_them(two_copies):
    wh, first, last = two_copies
    rows = det.removals_to_date(wh.ibis()).to_pandas().to_dict("records")
    assert len(rows) == 1
    row = rows[0]
    assert row["edition_id"] == last
    assert row["value"] == _held(wh, row["edition_id"], "removals_fytd") == 149_000
    assert row["file_name"] == wh.edition_file_name(row["edition_id"])
    assert row["fiscal_year"] == 2025


def test_a_vintage_known_before_the_copies_were_published_holds_none(two_copies):
    wh, _, _ = two_copies
    assert det.detained_snapshots(wh.ibis(), vintage=KnownBy(date(2025, 2, 27))).count().execute() == 0
