"""Cleaning and linkage rules on hand-built fixtures with hand-computed answers (REFERENCE.md section 3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from helpers import person_release as release

from icetrack.warehouse.cleaning import CleaningParams
from icetrack.warehouse.person import load_person_release, quality, staging_folder
from icetrack.domain.edition import SourceError
from icetrack.warehouse import open_warehouse

T0 = datetime(2025, 1, 10, 8, 0)
CUTOFF = date(2025, 3, 31)


@pytest.fixture
def wh(tmp_path):
    with open_warehouse(tmp_path / "wh.duckdb", load_reference=False) as w:
        yield w


def rows(wh, sql, *params):
    return wh.con.execute(sql, list(params)).fetchall()


def test_episode_split_by_25_hours_and_merged_by_23(wh):
    load_person_release(wh, release({"arrests": [
        {"unique_identifier": "a" * 40, "apprehension_date": T0},
        {"unique_identifier": "a" * 40, "apprehension_date": T0 + timedelta(hours=23)},
        {"unique_identifier": "b" * 40, "apprehension_date": T0},
        {"unique_identifier": "b" * 40, "apprehension_date": T0 + timedelta(hours=25)},
        {"unique_identifier": None, "apprehension_date": T0},
        {"unique_identifier": None, "apprehension_date": T0},
    ]}))
    got = rows(wh, "SELECT unique_identifier, episode_no, duplicate_likely FROM arrest_episodes ORDER BY source_row")
    assert got == [("a" * 40, 1, False), ("a" * 40, 1, True), ("b" * 40, 1, False), ("b" * 40, 2, False),
                   (None, None, False), (None, None, False)]  # no identifier: never flagged


def test_episode_gap_is_a_parameter(wh):
    load_person_release(wh, release({"arrests": [
        {"unique_identifier": "a" * 40, "apprehension_date": T0},
        {"unique_identifier": "a" * 40, "apprehension_date": T0 + timedelta(hours=23)},
    ]}), params=CleaningParams(episode_gap_hours=12))
    assert rows(wh, "SELECT duplicate_likely FROM arrest_episodes ORDER BY source_row") == [(False,), (False,)]


def stint(**kw):
    base = {"unique_identifier": "c" * 40, "book_in_date_time": T0 + timedelta(days=1),
            "stay_book_in_date_time": T0 + timedelta(days=1), "detention_facility_code": "FAC1"}
    return {**base, **kw}


def test_stint_duplicate_differing_only_in_bond_keeps_lowest_bond(wh):
    out = T0 + timedelta(days=20)
    load_person_release(wh, release({"detention_stints": [
        stint(detention_book_out_date_time=out, stay_book_out_date_time=out, stay_release_reason="Bonded Out",
              initial_bond_set_amount=5000.0, bond_posted_amount=5000.0),
        stint(detention_book_out_date_time=out, stay_book_out_date_time=out, stay_release_reason="Bonded Out",
              initial_bond_set_amount=1500.0, bond_posted_amount=2000.0),
    ]}))
    assert rows(wh, "SELECT copies, initial_bond_set_amount, bond_posted_amount FROM detention_stints_dedup") == [
        (2, 1500.0, 2000.0)]
    assert rows(wh, "SELECT count(*) FROM detention_stints") == [(2,)]  # nothing deleted from the raw layer
    stay = rows(wh, "SELECT n_stints, censored, release_reason, duration_days FROM detention_stays")
    assert stay == [(1, False, "Bonded Out", 19.0)]


def test_stay_without_book_out_is_censored_at_the_cutoff(wh):
    book_in = datetime(2025, 3, 1, 12, 0)
    load_person_release(wh, release({"detention_stints": [
        stint(book_in_date_time=book_in, stay_book_in_date_time=book_in)]}))
    (got,) = rows(wh, "SELECT censored, stay_book_out, release_reason, observed_until, duration_days FROM detention_stays")
    assert got[:3] == (True, None, None)
    assert got[3] == datetime(2025, 3, 31, 23, 59, 59)
    assert got[4] == pytest.approx((got[3] - book_in).total_seconds() / 86400)


def test_multi_stint_stay_uses_stay_fields_and_counts_transfers(wh):
    b1, b2, out = T0, T0 + timedelta(days=3), T0 + timedelta(days=30)
    load_person_release(wh, release({"detention_stints": [
        stint(book_in_date_time=b1, stay_book_in_date_time=b1, detention_book_out_date_time=b2,
              detention_release_reason="Transferred", detention_facility_code="A",
              stay_book_out_date_time=out, stay_release_reason="Removed"),
        stint(book_in_date_time=b2, stay_book_in_date_time=b1, detention_book_out_date_time=out,
              detention_release_reason="Removed", detention_facility_code="B",
              stay_book_out_date_time=out, stay_release_reason="Removed"),
    ]}))
    assert rows(wh, "SELECT n_stints, first_facility, last_facility, release_reason, stay_book_out FROM detention_stays") == [
        (2, "A", "B", "Removed", out)]


def test_arrest_7_days_before_book_in_links_11_does_not(wh):
    book_in = datetime(2025, 2, 1, 10, 0)
    load_person_release(wh, release({
        "arrests": [
            {"unique_identifier": "d" * 40, "apprehension_date": book_in - timedelta(days=7)},
            {"unique_identifier": "e" * 40, "apprehension_date": book_in - timedelta(days=11)},
        ],
        "detention_stints": [
            stint(unique_identifier="d" * 40, book_in_date_time=book_in, stay_book_in_date_time=book_in),
            stint(unique_identifier="e" * 40, book_in_date_time=book_in, stay_book_in_date_time=book_in),
        ]}))
    links = rows(wh, "SELECT stay_key, days_arrest_to_book_in FROM stay_arrest_links")
    assert len(links) == 1 and links[0][0].split(":")[1] == "d" * 40 and links[0][1] == pytest.approx(7)


def test_arrest_after_book_in_window_and_one_to_one(wh):
    b1 = datetime(2025, 2, 1)
    b2 = datetime(2025, 2, 4)
    load_person_release(wh, release({
        "arrests": [{"unique_identifier": "f" * 40, "apprehension_date": datetime(2025, 2, 3)}],
        # two stays of one person both within the window of one arrest: only the closer one links
        "detention_stints": [
            stint(unique_identifier="f" * 40, book_in_date_time=b1, stay_book_in_date_time=b1,
                  detention_book_out_date_time=datetime(2025, 2, 2), stay_book_out_date_time=datetime(2025, 2, 2)),
            stint(unique_identifier="f" * 40, book_in_date_time=b2, stay_book_in_date_time=b2),
        ]}))
    links = rows(wh, "SELECT stay_key, days_arrest_to_book_in FROM stay_arrest_links")
    assert len(links) == 1 and links[0][1] == pytest.approx(1.0)  # Feb 3 arrest -> Feb 4 stay


def test_removal_within_window_of_book_out_links(wh):
    out = datetime(2025, 2, 20)
    load_person_release(wh, release({
        "detention_stints": [
            stint(unique_identifier="g" * 40, detention_book_out_date_time=out, stay_book_out_date_time=out,
                  stay_release_reason="Removed"),
            stint(unique_identifier="h" * 40, detention_book_out_date_time=out, stay_book_out_date_time=out,
                  stay_release_reason="Removed"),
        ],
        "removals": [
            {"unique_identifier": "g" * 40, "departed_date": out + timedelta(days=3)},
            {"unique_identifier": "h" * 40, "departed_date": out + timedelta(days=12)},
        ]}))
    links = rows(wh, "SELECT stay_key, days_book_out_to_departure FROM stay_removal_links")
    assert len(links) == 1 and ("g" * 40) in links[0][0] and links[0][1] == pytest.approx(3)


def test_quality_reports_rules_and_rates(wh):
    book_in = datetime(2025, 2, 1, 10, 0)
    load_person_release(wh, release({
        "arrests": [{"unique_identifier": "d" * 40, "apprehension_date": book_in - timedelta(days=1)},
                    {"unique_identifier": "d" * 40, "apprehension_date": book_in - timedelta(hours=20)}],
        "detention_stints": [stint(unique_identifier="d" * 40, book_in_date_time=book_in,
                                   stay_book_in_date_time=book_in),
                             stint(unique_identifier="z" * 40, book_in_date_time=book_in,
                                   stay_book_in_date_time=book_in)]}))
    (q,) = quality(wh)
    arrests = next(t for t in q["tables"] if t["table"] == "arrests")
    assert arrests["rows"] == 2 and arrests["duplicates_flagged"] == 1
    assert q["linkage"]["stays"] == 2 and q["linkage"]["stay_arrest_match_rate"] == 0.5
    assert q["rules"]["stays_from_stints"]["note"].startswith("2 open stays censored at the cut-off; 0 with")


def test_error_mid_stream_rolls_back_everything(wh):
    ok = release({"arrests": [{"unique_identifier": "a" * 40, "apprehension_date": T0}]})

    def failing(inner):
        yield from inner
        raise SourceError("bad.csv.gz", "gzip stream truncated")

    ok.batches = failing(ok.batches)
    with pytest.raises(SourceError, match="truncated"):
        load_person_release(wh, ok)
    # Not even the (empty) person tables: their schema is created inside the transaction that failed.
    person_tables = ("arrests", "detainers", "encounters", "detention_stints", "removals", "person_files",
                     "person_redactions", "cleaning_log")
    assert rows(wh, "SELECT table_name FROM information_schema.tables WHERE table_name IN "
                    f"({', '.join('?' * len(person_tables))})", *person_tables) == []
    assert rows(wh, "SELECT count(*) FROM editions WHERE source = 'test_fixture'") == [(0,)]
    assert rows(wh, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_staging_%'") == [(0,)]
    assert not staging_folder(wh).exists()  # the staged Parquet files are gone too


def test_rows_are_staged_in_parquet_beside_the_warehouse_and_a_killed_loads_leftovers_go(wh):
    leftover = staging_folder(wh)
    leftover.mkdir()
    (leftover / "0_arrests.parquet").write_bytes(b"half-written by a killed load")
    r = release({"arrests": [{"unique_identifier": "a" * 40, "apprehension_date": T0}]})
    seen = []

    def watching(inner):
        for table, batch in inner:
            yield table, batch
        seen.append(sorted(p.name for p in staging_folder(wh).iterdir()))

    r.batches = watching(r.batches)
    load_person_release(wh, r)
    # The leftover was removed before staging; the one file there now is this load's (the load succeeded, so
    # it is not the half-written one).
    assert seen == [["0_arrests.parquet"]]
    assert rows(wh, "SELECT count(*) FROM arrests") == [(1,)]
    assert not staging_folder(wh).exists()


def test_same_file_twice_is_skipped(wh):
    r1 = release({"arrests": [{"unique_identifier": "a" * 40, "apprehension_date": T0}]})
    r2 = release({"arrests": [{"unique_identifier": "a" * 40, "apprehension_date": T0}]})
    assert load_person_release(wh, r1).loaded
    again = load_person_release(wh, r2)
    assert not again.loaded and "nothing changed" in again.message
    assert rows(wh, "SELECT count(*) FROM arrests") == [(1,)]
