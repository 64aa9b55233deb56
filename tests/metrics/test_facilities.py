"""Facility history over real ICE workbooks (https://www.ice.gov/detain/detention-management), loaded through the
real CLI: a renamed facility keeps one identity, two facilities with the same name in different states stay two,
a row printed without its state joins its facility only by a curated merge, the total ADP is the Level A-D sum;
and the warehouse's facility listings load in the edition's transaction, once, and upgrade an older schema."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pyarrow as pa
import pytest
from helpers import Icetrack, shared_data_dir

from icetrack.domain.edition import SourceError
from icetrack.metrics import facilities as fm
from icetrack.sources.ice_detention import parse_workbook
from icetrack.warehouse import open_warehouse
from icetrack.warehouse import facilities as store

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")
FILES = ("FY19-detentionstats.xlsx", "20240119051317-FY24_detentionStats01182024.xlsx",
         "third-party-modified/FY25_detentionStats07072025.xlsx", "FY25_detentionStats08292025.xlsx",
         "FY26_detentionStats02022026.xlsx", "FY26_detentionStats_04092026.xlsx")


@pytest.fixture(scope="module")
def facility_warehouse(tmp_path_factory):
    if WORKBOOKS is None or not WORKBOOKS.is_dir():
        pytest.skip("real ICE workbooks not found")
    path = tmp_path_factory.mktemp("facilities") / "wh.duckdb"
    Icetrack(path)("ingest", *[str(WORKBOOKS / f) for f in FILES])
    return path


@pytest.fixture(scope="module")
def data(facility_warehouse):
    with open_warehouse(facility_warehouse, read_only=True) as wh:
        return fm.load(wh)


@needs_data
def test_a_renamed_facility_keeps_one_identity(data):
    # ADAMS COUNTY DET CENTER (FY19 .. 08/29/2025) was renamed ADAMS COUNTY CORRECTIONAL CENTER (FY26): same
    # address, AOR and type; the curated list records it.
    history = fm.history(data, "adams-county-correctional-center-ms")
    assert [(r["as_of"].year, r["name"]) for r in history] == [
        (2019, "ADAMS COUNTY DET CENTER"), (2024, "Adams County Det Center"), (2025, "ADAMS COUNTY DET CENTER"),
        (2025, "ADAMS COUNTY DET CENTER"), (2026, "ADAMS COUNTY CORRECTIONAL CENTER"),
        (2026, "ADAMS COUNTY CORRECTIONAL CENTER")]
    assert data.resolve("adams-county-detention-center-ms") == "adams-county-correctional-center-ms"
    # FY26_detentionStats_04092026.xlsx row 11: Level A-D = J11..M11
    assert history[-1]["adp"] == pytest.approx(1709.327869 + 262.344262 + 90.071038 + 61.775956)
    assert history[-1]["fiscal_year"] == 2026 and history[0]["fiscal_year"] == 2019
    assert not any("adams-county-detention-center-ms" in (c["old_id"], c["new_id"]) for c in fm.candidates(data))


@needs_data
def test_two_facilities_with_one_name_in_two_states_stay_two(data):
    # FY25_detentionStats08292025.xlsx prints 'CLINTON COUNTY JAIL' twice: Plattsburgh, NY and Frankfort, IN
    ny, indiana = fm.history(data, "clinton-county-jail-ny"), fm.history(data, "clinton-county-jail-in")
    assert {r["name"].upper() for r in ny} == {r["name"] for r in indiana} == {"CLINTON COUNTY JAIL"}
    both = "FY25_detentionStats08292025.xlsx"
    assert both in {r["file_name"] for r in ny} and both in {r["file_name"] for r in indiana}
    assert "FY19-detentionstats.xlsx" in {r["file_name"] for r in ny}  # Indiana's is not listed in FY2019
    assert "FY19-detentionstats.xlsx" not in {r["file_name"] for r in indiana}
    # 'ORANGE COUNTY JAIL' (FY19) and 'ORANGE COUNTY JAIL (NY)' (FY25) are one facility; Orlando's is another
    orange = {r["facility_id"]: r for r in fm.table(data) if r["facility_id"].startswith("orange-county-jail-")}
    assert set(orange) == {"orange-county-jail-ny", "orange-county-jail-fl"}
    assert orange["orange-county-jail-ny"]["city"] == "GOSHEN" and orange["orange-county-jail-fl"]["city"] == "ORLANDO"
    assert {r["name"] for r in fm.history(data, "orange-county-jail-ny")} >= {"ORANGE COUNTY JAIL",
                                                                               "ORANGE COUNTY JAIL (NY)"}


@needs_data
def test_a_row_without_a_state_joins_its_facility_by_a_curated_merge(data):
    imperial = fm.history(data, "imperial-regional-detention-facility-ca")
    assert [r["file_name"] for r in imperial][-1] == "FY26_detentionStats_04092026.xlsx"  # D100 blank there
    assert "imperial-regional-detention-facility-no-state" not in data.records
    states = fm.by_state(data)
    assert {s["state"] for s in states} <= set(fm.states(data)) and "??" not in {s["state"] for s in states}


@needs_data
def test_total_adp_is_the_level_sum_and_agrees_with_criminality(data):
    for record in data.records.values():
        for point in record.editions.values():
            if point.get("adp") is not None:
                # FY26 prints six decimals: the sums agree to the last of them
                assert point["adp"] == pytest.approx(point["adp_convicted"] + point["adp_not_convicted"], abs=1e-5)
                threat = sum(point[k] for k in ("adp_threat_1", "adp_threat_2", "adp_threat_3", "adp_no_threat"))
                assert point["adp"] == pytest.approx(threat, abs=1e-5)
    latest = fm.by_state(data)
    assert {s["as_of"] for s in latest} == {date(2026, 4, 4)}  # one edition: FY26_detentionStats_04092026.xlsx
    tx = next(s for s in latest if s["state"] == "TX")
    assert tx["facilities"] == sum(1 for r in data.records.values() if r.state == "TX"
                                   and tx["edition_id"] in r.editions) == 25
    assert tx["adp"] > 10_000


@needs_data
def test_a_facility_printed_twice_keeps_its_first_row_and_shows_the_repeat(data):
    point = next(r for r in fm.history(data, "nassau-county-correctional-center-ny")
                 if r["file_name"] == "FY25_detentionStats07072025.xlsx")
    assert point["rows"] == 2
    assert point["adp"] == pytest.approx(10.0755, abs=1e-4) and point["adp_repeat_rows"] == pytest.approx(1.6375,
                                                                                                           abs=1e-4)


@needs_data
def test_listings_load_with_their_edition_once_and_roll_back_with_it(tmp_path):
    parsed = parse_workbook(WORKBOOKS / "FY26_detentionStats02022026.xlsx")
    listings = [{"position": 1, "name": "ADAMS COUNTY CORRECTIONAL CENTER", "city": "NATCHEZ", "state": "MS",
                 "gender": "Male", "inspection_more": {"Second to Last Inspection Type": "ODO"}}]
    with open_warehouse(tmp_path / "wh.duckdb", load_reference=False) as wh:
        assert wh.load(replace(parsed, facility_listings=listings)).loaded
        assert wh.load(replace(parsed, facility_listings=listings * 2)).loaded is False  # same bytes: unchanged
        rows = store.listings(wh)
        assert [(r["name"], r["gender"], r["file_name"]) for r in rows] == [
            ("ADAMS COUNTY CORRECTIONAL CENTER", "Male", "FY26_detentionStats02022026.xlsx")]
        assert rows[0]["inspection_more"] == '{"Second to Last Inspection Type": "ODO"}'
        bad = replace(parse_workbook(WORKBOOKS / "FY26_detentionStats_04092026.xlsx"), facility_listings=listings)
        # a figure published twice refuses the edition (store.py): its listings must not stay behind
        bad = replace(bad, observations=pa.concat_tables([bad.observations, bad.observations.slice(0, 1)]))
        with pytest.raises(SourceError):
            wh.load(bad)
        assert len(store.listings(wh)) == 1  # the refused edition's listings rolled back with it


def test_an_older_warehouse_gains_the_listings_table_in_place(tmp_path):
    path = tmp_path / "wh.duckdb"
    with open_warehouse(path, load_reference=False) as wh:
        wh.con.execute("DROP TABLE facility_listings")
        wh.con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    with open_warehouse(path, load_reference=False) as wh:
        assert wh.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "6"
        assert store.has_listings(wh) is False  # the table is there, empty
