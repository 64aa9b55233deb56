"""``icetrack facilities`` and ``icetrack series --facility`` over real ICE workbooks
(https://www.ice.gov/detain/detention-management): table, JSON and CSV; one facility's history under all its
names; unknown state or facility in one line with exit status 2; and the bundle alone says how to load them."""

from __future__ import annotations

import csv
import io

import pytest
from helpers import Icetrack, shared_data_dir

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
FILES = ("FY25_detentionStats08292025.xlsx", "FY26_detentionStats02022026.xlsx")


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> Icetrack:
    if WORKBOOKS is None or not WORKBOOKS.is_dir():
        pytest.skip("real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")
    run = Icetrack(tmp_path_factory.mktemp("facilities_cli") / "wh.duckdb")
    run("ingest", *[str(WORKBOOKS / f) for f in FILES])
    return run


def test_facilities_json_lists_each_facility_once_with_its_listing(cli):
    body = cli.json("facilities")
    rows = {r["facility_id"]: r for r in body["rows"]}
    adams = rows["adams-county-correctional-center-ms"]
    assert adams["name"] == "ADAMS COUNTY CORRECTIONAL CENTER" and adams["former_names"] == "ADAMS COUNTY DET CENTER"
    assert adams["n_editions"] == 2 and adams["adp_as_of"] == "2026-01-25"
    # from the stored listing of FY26_detentionStats02022026.xlsx (H11 'Male', Y11 2025-01-16)
    assert body["has_listings"] is True
    assert (adams["gender"], adams["inspection_date"]) == ("Male", "2025-01-16")
    assert "adams-county-detention-center-ms" not in rows
    assert {"clinton-county-jail-ny", "clinton-county-jail-in"} <= set(rows)
    assert body["latest_edition"]["file_name"] == "FY26_detentionStats02022026.xlsx"
    assert all(c["status"] == "unconfirmed" for c in body["candidates"])
    assert any(r["old_name"] == "ADAMS COUNTY DET CENTER" for r in body["renames"])


def test_facilities_state_filter_and_csv(cli):
    rows = list(csv.DictReader(io.StringIO(cli("facilities", "--state", "ms", "--csv").stdout)))
    assert rows and {r["state"] for r in rows} == {"MS"}
    assert "adams-county-correctional-center-ms" in {r["facility_id"] for r in rows}
    assert "address" not in rows[0] and "zip" not in rows[0]
    table = cli("facilities", "--state", "MS").stdout
    assert "facilities in MS" in table


def test_one_facility_history_and_candidates(cli):
    body = cli.json("facilities", "--facility", "adams-county-detention-center-ms")  # a former id works
    assert body["facility_id"] == "adams-county-correctional-center-ms"
    assert [r["name"] for r in body["rows"]] == ["ADAMS COUNTY DET CENTER", "ADAMS COUNTY CORRECTIONAL CENTER"]
    found = cli.json("facilities", "--candidates")
    assert isinstance(found, list) and all(c["status"] == "unconfirmed" for c in found)


def test_series_facility_filters_by_identity_across_names(cli):
    rows = cli.json("series", "facility_adp", "--facility", "adams-county-correctional-center-ms",
                    "--dim", "category=Level A", "--vintage", "all")
    assert sorted(r["dims"]["facility"] for r in rows) == ["ADAMS COUNTY CORRECTIONAL CENTER",
                                                           "ADAMS COUNTY DET CENTER"]
    indiana = cli.json("series", "facility_alos", "--facility", "clinton-county-jail-in", "--vintage", "all")
    assert {(r["dims"]["facility"], r["dims"]["state"]) for r in indiana} == {("CLINTON COUNTY JAIL", "IN")}


@pytest.mark.parametrize("args, message", [
    (("facilities", "--state", "ZZ"), "no facility listed in state 'ZZ'"),
    (("facilities", "--state", "Texas"), "is not a two-letter state code"),
    (("facilities", "--facility", "no-such-facility-xx"), "unknown facility 'no-such-facility-xx'"),
    (("series", "facility_adp", "--facility", "no-such-facility-xx"), "unknown facility 'no-such-facility-xx'"),
    (("series", "book_ins", "--facility", "adams-county-correctional-center-ms"), "--facility filters the facility"),
])
def test_unknown_state_or_facility_is_one_line_and_exit_2(cli, args, message):
    result = cli(*args, expect=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_the_bundle_alone_says_how_to_load_facilities(bundled_warehouse):
    result = Icetrack(bundled_warehouse)("facilities", expect=2)
    assert "icetrack ingest <workbooks>" in result.stderr and len(result.stderr.strip().splitlines()) == 1
