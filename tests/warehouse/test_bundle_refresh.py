"""A warehouse holding the bundled national subset as an older icetrack extracted it (fewer tables) gets the
current bundle's on its next read-write open: an upgrade brings the new tables without a re-ingest. Editions
ingested from their files are never touched."""

from __future__ import annotations

from icetrack.sources.ice_detention.edition import PARSER_VERSION
from icetrack.warehouse import open_warehouse


def _bundled_state(wh) -> dict[str, tuple[str, int]]:
    rows = wh.con.execute(
        """SELECT e.sha256, e.parser_version, count(o.measure) FILTER (WHERE o.measure LIKE 'atd_%')
           FROM editions e LEFT JOIN observations o USING (edition_id)
           WHERE e.completeness = 'national' GROUP BY ALL""").fetchall()
    return {sha: (version, atd) for sha, version, atd in rows}


def test_subset_of_an_older_parser_is_refreshed(tmp_path):
    path = tmp_path / "wh.duckdb"
    with open_warehouse(path) as wh:
        current = _bundled_state(wh)
        assert len(current) == 30 and {v for v, _ in current.values()} == {PARSER_VERSION}
        assert all(atd > 0 for _, atd in current.values())  # every edition has ATD tables since FY2019
        # What an icetrack of parser version 2 left: the same editions, without the tables read since.
        wh.con.execute("DELETE FROM observations WHERE measure LIKE 'atd_%'")
        wh.con.execute("UPDATE editions SET parser_version = '2' WHERE completeness = 'national'")
        n_editions = wh.con.execute("SELECT count(*) FROM editions").fetchone()[0]
    with open_warehouse(path, read_only=True) as wh:
        assert {v for v, _ in _bundled_state(wh).values()} == {"2"}
    with open_warehouse(path) as wh:  # a read-write open loads what the bundle has that the warehouse lacks
        assert _bundled_state(wh) == current
        assert wh.con.execute("SELECT count(*) FROM editions").fetchone()[0] == n_editions


def test_plan_says_the_subset_is_refreshed(tmp_path):
    from icetrack.sources.ice_detention_bundle import parse_bundle

    with open_warehouse(tmp_path / "wh.duckdb") as wh:
        one = parse_bundle()[:1]
        sha = one[0].edition.sha256
        assert wh.plan_loads(one)[1] == []  # same parser: nothing to do
        wh.con.execute("UPDATE editions SET parser_version = '2' WHERE sha256 = ?", [sha])
        results, todo = wh.plan_loads(one)
        assert len(todo) == 1 and todo[0][1] == wh.has_sha256(sha)
        assert f"re-read with parser version {PARSER_VERSION} (was 2) as edition" in results[0].message


def test_workbook_ingested_by_an_older_parser_is_re_read(tmp_path, shared_data):
    from helpers import Icetrack

    icetrack = Icetrack(tmp_path / "wh.duckdb")
    workbook = shared_data / "ice-detention-stats" / "FY26_detentionStats_04092026.xlsx"
    icetrack("ingest", str(workbook))
    with open_warehouse(tmp_path / "wh.duckdb") as wh:
        wh.con.execute("DELETE FROM observations WHERE measure LIKE 'bond_%'")
        wh.con.execute("UPDATE editions SET parser_version = '2' WHERE file_name = ? AND completeness = 'full'",
                       [workbook.name])
    again = icetrack("ingest", str(workbook)).output
    assert f"re-read with parser version {PARSER_VERSION} (was 2)" in again
    assert icetrack("ingest", str(workbook)).output.startswith(f"{workbook.name}: already loaded")
    full = [e["edition_id"] for e in icetrack.json("editions")
            if e["file_name"] == workbook.name and e["completeness"] == "full"]
    rows = icetrack.json("series", "bond_stats_book_outs", "--vintage", full[0])
    # October 2025, read from the rows ICE printed swapped (see sources/ice_detention/bonds.py).
    assert [r["value"] for r in rows if r["period_start"] == "2025-10-01"] == [37537]
