"""Synthetic release generator: files and schema, determinism, invariants, calibration to the national figures.

Small releases (20,000 people, well under a second each once the calibration is fitted) except
``test_calibration_200k`` (200,000 people, a few seconds).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icetrack.domain.person_schema import PROVENANCE, TABLES
from icetrack.synth import calibration, parameters
from icetrack.synth import generator as synth

SMALL = 20_000
SEED = 11
HEX40 = re.compile(r"^[0-9a-f]{40}$")
REQUIRED = ("arrests", "detention_stints", "removals")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_small")
    return out, synth.generate_release(out, people=SMALL, seed=SEED)


def _con(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in synth.OUTPUT_TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out / synth.FILE_NAMES[t]}')")
    con.execute("""CREATE VIEW stays AS
        SELECT unique_identifier, stay_book_in_date_time AS bi, max(stay_book_out_date_time) AS bo,
               max(stay_release_reason) AS reason, any_value(book_in_criminality) AS crim,
               any_value(apprehension_method) AS method, count(*) AS n
        FROM detention_stints GROUP BY unique_identifier, stay_book_in_date_time""")
    return con


# ------------------------------------------------------------------------------------------ files and manifest

def test_files_columns_types_and_metadata(small):
    out, _ = small
    omitted = {name for name, _ in PROVENANCE} | {"extra"}
    for t in REQUIRED + ("encounters", "detainers"):
        path = out / f"{t}.parquet"
        assert path.is_file(), t
        schema = pq.read_schema(path)
        expected = [f for f in TABLES[t] if f.name not in omitted]
        assert schema.names == [f.name for f in expected], t
        for f in expected:
            assert schema.field(f.name).type == f.type, (t, f.name, schema.field(f.name).type)
        meta = pq.ParquetFile(path).metadata.metadata
        assert meta[b"icetrack_synthetic"] == b"true"
        assert meta[b"icetrack_seed"] == str(SEED).encode()
        assert meta[b"icetrack_generator_version"] == synth.GENERATOR_VERSION.encode()
        # the Arrow schema stored in the file says so too
        assert schema.metadata[b"icetrack_synthetic"] == b"true"


def test_manifest(small):
    out, manifest = small
    on_disk = json.loads((out / synth.MANIFEST_NAME).read_text())
    assert on_disk == json.loads(json.dumps(manifest, default=str))
    assert manifest["synthetic"] is True
    assert manifest["seed"] == SEED and manifest["people"] == SMALL
    assert manifest["generator_version"] == synth.GENERATOR_VERSION
    assert manifest["cutoff"] == "2025-08-31" and manifest["start"] == "2023-10-01"
    for t, n in manifest["rows"].items():
        assert pq.ParquetFile(out / manifest["files"][t]).metadata.num_rows == n, t
    assert all(manifest["rows"][t] > 0 for t in REQUIRED)
    assert sum(manifest["people_by_category"].values()) == SMALL
    cal = manifest["calibration"]
    measures = {i["measure"] for i in cal["inputs"]}
    assert {"book_ins", "book_outs", "alos", "adp"} <= measures
    for i in cal["inputs"]:
        assert i["edition_file_name"] and i["edition_sha256"] and i["edition_as_of"]
    # the FY2024-25 figures come from the latest as-of edition of each figure
    latest = max(i["edition_as_of"] for i in cal["inputs"] if i["measure"] == "book_ins")
    assert latest >= "2025-08-31"
    assert cal["bundle"]["sha256"]
    assert manifest["parameters"]["p_book_in_given_ice_arrest"] == parameters.P_BOOK_IN


# ------------------------------------------------------------------------------------------ determinism

def test_same_seed_same_bytes_different_seed_differs(small, tmp_path):
    out, manifest = small
    again = synth.generate_release(tmp_path / "again", people=SMALL, seed=SEED)
    assert again == manifest
    for t in synth.OUTPUT_TABLES:
        assert _sha(out / f"{t}.parquet") == _sha(tmp_path / "again" / f"{t}.parquet"), t
        assert pq.read_table(out / f"{t}.parquet").equals(pq.read_table(tmp_path / "again" / f"{t}.parquet"))
    other = synth.generate_release(tmp_path / "other", people=SMALL, seed=SEED + 1)
    a = pq.read_table(out / "arrests.parquet")
    b = pq.read_table(tmp_path / "other" / "arrests.parquet")
    assert not a.equals(b)
    assert not set(a["unique_identifier"].to_pylist()) & set(b["unique_identifier"].to_pylist())
    assert other["rows"] != manifest["rows"]


def test_chunks_are_row_groups_and_progress(tmp_path):
    seen = []
    m = synth.generate_release(tmp_path, people=5_000, seed=3, chunk_people=2_000, progress=seen.append)
    assert seen == [2_000, 2_000, 1_000]
    for t in REQUIRED:
        assert pq.ParquetFile(tmp_path / f"{t}.parquet").metadata.num_row_groups == 3
    assert m["chunk_people"] == 2_000
    again = synth.generate_release(tmp_path / "again", people=5_000, seed=3, chunk_people=2_000)
    assert again["rows"] == m["rows"]


# ------------------------------------------------------------------------------------------ invariants

def test_identifiers_are_40_hex_text(small):
    out, _ = small
    for t in synth.OUTPUT_TABLES:
        col = pq.read_table(out / f"{t}.parquet", columns=["unique_identifier"])["unique_identifier"]
        assert col.type == pa.string()
        assert col.null_count == 0
        assert all(HEX40.match(v) for v in col.to_pylist()), t


def test_dates_order_and_cutoff(small):
    out, m = small
    con = _con(out)
    cut = datetime(2025, 8, 31, 23, 59, 59)
    q = con.execute
    assert q("SELECT count(*) FROM detention_stints WHERE detention_book_out_date_time < book_in_date_time"
             ).fetchone()[0] == 0
    assert q("SELECT count(*) FROM detention_stints WHERE stay_book_out_date_time < stay_book_in_date_time"
             ).fetchone()[0] == 0
    assert q("SELECT count(*) FROM detention_stints WHERE book_in_date_time < stay_book_in_date_time"
             ).fetchone()[0] == 0
    assert q("SELECT count(*) FROM detention_stints WHERE detention_book_out_date_time > stay_book_out_date_time"
             ).fetchone()[0] == 0
    # nothing after the cut-off
    for t, col in synth_event_columns():
        assert q(f"SELECT count(*) FROM {t} WHERE {col} > ?", [cut]).fetchone()[0] == 0, (t, col)
    # arrests, encounters, detainers fall in the window
    assert q("SELECT min(apprehension_date) >= DATE '2023-10-01' FROM arrests").fetchone()[0]
    # open stays: null book-out and null reason on every stint, and some exist near the cut-off
    assert q("SELECT count(*) FROM detention_stints WHERE (stay_book_out_date_time IS NULL) "
             "<> (stay_release_reason IS NULL)").fetchone()[0] == 0
    assert q("SELECT count(*) FROM detention_stints WHERE (detention_book_out_date_time IS NULL) "
             "<> (detention_release_reason IS NULL)").fetchone()[0] == 0
    n_open = q("SELECT count(*) FROM stays WHERE bo IS NULL").fetchone()[0]
    assert n_open > 0.03 * q("SELECT count(*) FROM stays").fetchone()[0]
    # an open stay's last stint is open; closed stays have every stint closed
    assert q("SELECT count(*) FROM detention_stints WHERE stay_book_out_date_time IS NOT NULL "
             "AND detention_book_out_date_time IS NULL").fetchone()[0] == 0
    # people in custody at the start: booked in before it, still detained on it
    assert q("SELECT count(*) FROM stays WHERE bi < DATE '2023-10-01' AND (bo IS NULL OR bo >= DATE '2023-10-01')"
             ).fetchone()[0] > 0
    assert q("SELECT count(*) FROM stays WHERE bi < DATE '2023-10-01' AND bo < DATE '2023-10-01'").fetchone()[0] == 0
    # 1-3 stints per stay (before duplicates); intermediate stints are transfers
    assert q("SELECT max(n), min(n) FROM (SELECT count(DISTINCT book_in_date_time) n FROM detention_stints "
             "GROUP BY unique_identifier, stay_book_in_date_time)").fetchone() == (3, 1)
    assert q("SELECT count(*) FROM detention_stints WHERE detention_book_out_date_time < stay_book_out_date_time "
             "AND detention_release_reason <> 'Transferred'").fetchone()[0] == 0


def synth_event_columns():
    out = []
    for t in synth.OUTPUT_TABLES:
        for f in TABLES[t]:
            if pa.types.is_timestamp(f.type):
                out.append((t, f.name))
    return out


def test_cutoff_before_end_censors(tmp_path):
    m = synth.generate_release(tmp_path, people=SMALL, seed=5, cutoff=date(2025, 3, 31))
    assert m["cutoff"] == "2025-03-31" and m["end"] == "2025-08-31"
    con = _con(tmp_path)
    cut = datetime(2025, 3, 31, 23, 59, 59)
    for t, col in synth_event_columns():
        assert con.execute(f"SELECT count(*) FROM {t} WHERE {col} > ?", [cut]).fetchone()[0] == 0, (t, col)
    assert con.execute("SELECT max(apprehension_date) >= TIMESTAMP '2025-03-30' FROM arrests").fetchone()[0]
    # open at the cut-off: null book-out, null reason
    open_ = con.execute("SELECT count(*), count(reason) FROM stays WHERE bo IS NULL").fetchone()
    assert open_[0] > 0 and open_[1] == 0


def test_removals_follow_book_outs_and_match_release_to_remove(small):
    out, _ = small
    con = _con(out)
    # every 'Release to Remove' stay booked out >= 3 days before the cut-off has a removal 0-3 days after
    rtr = con.execute("""
        SELECT count(*), count(r.unique_identifier) FROM stays s
        LEFT JOIN removals r ON r.unique_identifier = s.unique_identifier
             AND r.departed_date BETWEEN s.bo AND s.bo + INTERVAL 3 DAY
        WHERE s.reason = 'Release to Remove' AND s.bo < TIMESTAMP '2025-08-28'""").fetchone()
    assert rtr[0] > 0 and rtr[0] == rtr[1]
    # removals linked to a stay (within the linkage window) depart at or after its book-out
    bad = con.execute("""
        SELECT count(*) FROM removals r JOIN stays s ON r.unique_identifier = s.unique_identifier
        WHERE s.bo IS NOT NULL AND r.departed_date BETWEEN s.bo - INTERVAL 5 DAY AND s.bo + INTERVAL 10 DAY
          AND r.departed_date < s.bo""").fetchone()[0]
    assert bad == 0
    # no removal for a person whose stay is still open, and released people are not removed at book-out
    assert con.execute("""
        SELECT count(*) FROM removals r JOIN stays s ON r.unique_identifier = s.unique_identifier
        WHERE s.bo IS NULL""").fetchone()[0] == 0
    # some removals have no stay (removed without detention); those of arrested people within 30 days of the arrest
    assert con.execute("""SELECT count(*) FROM removals r ANTI JOIN stays s USING (unique_identifier)"""
                       ).fetchone()[0] > 0
    direct = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE r.departed_date BETWEEN a.apprehension_date
                                                               AND a.apprehension_date + INTERVAL 30 DAY)
        FROM removals r JOIN arrests a USING (unique_identifier) ANTI JOIN stays s USING (unique_identifier)
        """).fetchone()
    assert direct[0] > 0 and direct[0] == direct[1]
    # ICE-arrested people are booked in 0-2 days after the arrest (inside the linkage window)
    lag = con.execute("""
        SELECT min(epoch(s.bi - a.t)) / 86400, max(epoch(s.bi - a.t)) / 86400 FROM stays s
        JOIN (SELECT unique_identifier, min(apprehension_date) t FROM arrests GROUP BY 1) a USING (unique_identifier)
        """).fetchone()
    assert 0 <= lag[0] and lag[1] <= 2.0


def test_duplicates_at_stated_rates(small):
    out, _ = small
    con = _con(out)
    n, repeats, exact = con.execute("""
        WITH a AS (SELECT apprehension_date t, lag(apprehension_date) OVER (PARTITION BY unique_identifier
                                                                           ORDER BY apprehension_date) p
                   FROM arrests)
        SELECT count(*), count(*) FILTER (WHERE t - p <= INTERVAL 24 HOUR), count(*) FILTER (WHERE t = p) FROM a
        """).fetchone()
    rate = repeats / n
    assert abs(rate - parameters.DUP_ARREST_RATE) < 0.004, rate  # ~1%: sd about 0.1 pt at this size
    assert 0 < exact < repeats
    # no two arrest rows of a person more than 24 hours apart (one arrest episode per person)
    assert con.execute("""SELECT count(*) FROM (SELECT unique_identifier FROM arrests GROUP BY 1
                          HAVING max(apprehension_date) - min(apprehension_date) > INTERVAL 24 HOUR)"""
                       ).fetchone()[0] == 0
    rows, distinct = con.execute("""
        SELECT (SELECT count(*) FROM detention_stints),
               (SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (initial_bond_set_amount, bond_posted_amount)
                                      FROM detention_stints))""").fetchone()
    dup_rate = (rows - distinct) / rows
    assert abs(dup_rate - parameters.DUP_STINT_RATE) < 0.002, dup_rate
    # the copies differ in the bond amounts only, and carry the higher amounts
    higher, groups = con.execute("""
        SELECT count(*) FILTER (WHERE lo < hi), count(*) FROM (
            SELECT min(initial_bond_set_amount) lo, max(initial_bond_set_amount) hi FROM detention_stints
            GROUP BY unique_identifier, book_in_date_time, detention_facility_code HAVING count(*) > 1)""").fetchone()
    assert higher == groups == rows - distinct


def test_attributes(small):
    out, _ = small
    con = _con(out)
    aors = {r[0] for r in con.execute("SELECT DISTINCT apprehension_aor FROM arrests").fetchall()}
    assert len(aors) == 25 and all(a.endswith(" Area of Responsibility") for a in aors)
    crims = {r[0] for r in con.execute("SELECT DISTINCT apprehension_criminality FROM arrests").fetchall()}
    assert crims == set(parameters.CRIMINALITY)
    y = con.execute("SELECT min(birth_year), max(birth_year), count(*) FILTER (WHERE birth_year IS NULL) "
                    "FROM arrests").fetchone()
    assert 1940 <= y[0] and y[1] <= 2008 and y[2] == 0
    assert {r[0] for r in con.execute("SELECT DISTINCT gender FROM arrests").fetchall()} == {"Male", "Female"}
    # convictions only for convicted people
    assert con.execute("SELECT count(*) FROM arrests WHERE most_serious_conviction IS NOT NULL "
                       "AND apprehension_criminality <> 'Convicted Criminal'").fetchone()[0] == 0
    # bonded-out stays posted a bond; posted amount never above the amount set
    assert con.execute("""SELECT count(*) FROM detention_stints WHERE stay_release_reason = 'Bonded Out'
                          AND detention_release_reason = 'Bonded Out' AND bond_posted_amount IS NULL"""
                       ).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM detention_stints WHERE bond_posted_amount > initial_bond_set_amount"
                       ).fetchone()[0] == 0
    # weekends are quieter than weekdays for ICE arrests
    wk = dict(con.execute("SELECT isodow(apprehension_date) >= 6, count(*) / count(DISTINCT apprehension_date::DATE) "
                          "FROM arrests GROUP BY 1").fetchall())
    assert wk[True] < 0.8 * wk[False]


# ------------------------------------------------------------------------------------------ calibration

def test_calibration_200k(tmp_path):
    """With 200,000 people (about 0.29 x the national flows of Oct 2023 - Aug 2025):

    - monthly ICE-arrested book-ins: Pearson r >= 0.99 with the official ICE book-ins and each month's share of
      the window within 12% of the official share (measured: r 0.999, 6%); same for CBP;
    - removal share of final book-outs per month ('Release to Remove' / all, criminality Total): within 5 points
      of the official share in every month (measured: <= 3 points);
    - mean stay of the stays booked out in a month: within 15% of the official ALOS every month and 5% on average
      (measured: 8% max, 2% mean);
    - criminality mix of final book-outs over the window within 4 points of the official mix (measured: <= 2).
    """
    m = synth.generate_release(tmp_path, people=200_000, seed=2024)
    cal = calibration.load_calibration()
    con = _con(tmp_path)
    win = list(range(cal.start_index, len(cal.months)))
    months = [cal.months[i] for i in win]

    def monthly(sql):
        d = dict(con.execute(sql).fetchall())
        return np.array([d.get(mm, 0) for mm in months], dtype=float)

    for agency, cond in (("ICE", f"method <> '{parameters.CBP_METHOD}'"), ("CBP", f"method = '{parameters.CBP_METHOD}'")):
        syn = monthly(f"SELECT date_trunc('month', bi)::DATE, count(*) FROM stays WHERE {cond} GROUP BY 1")
        off = cal.book_ins[agency][win]
        r = np.corrcoef(syn, off)[0, 1]
        dev = np.max(np.abs((syn / syn.sum()) / (off / off.sum()) - 1))
        assert r >= 0.99, (agency, r)
        assert dev <= 0.12, (agency, dev)

    rows = con.execute("""SELECT date_trunc('month', bo)::DATE, count(*),
                                 avg((reason = 'Release to Remove')::INT), avg(epoch(bo - bi)) / 86400
                          FROM stays WHERE bo IS NOT NULL GROUP BY 1""").fetchall()
    d = {r[0]: r[1:] for r in rows}
    share_err, alos_err = [], []
    for i, mm in zip(win, months):
        n, share, alos = d[mm]
        assert n > 2_000
        share_err.append(abs(share - cal.removal_share[i]))
        alos_err.append(abs(alos / cal.alos_total[i] - 1))
    assert max(share_err) <= 0.05, share_err
    assert max(alos_err) <= 0.15, alos_err
    assert np.mean(alos_err) <= 0.05, alos_err
    # the removal share rises from about 48% (Oct 2023) to about 90% (Aug 2025), as the official series does
    assert d[months[0]][1] < 0.55 and d[months[-1]][1] > 0.85

    crim = dict(con.execute("SELECT crim, count(*) FROM stays WHERE bo IS NOT NULL AND bo >= DATE '2023-10-01' "
                            "GROUP BY 1").fetchall())
    total = sum(crim.values())
    weights = cal.book_outs[win][:, None] * cal.book_out_criminality[win]
    official = weights.sum(axis=0) / weights.sum()
    for c, o in zip(parameters.CRIMINALITY, official):
        assert abs(crim[c] / total - o) <= 0.04, (c, crim[c] / total, o)

    # scale: synthetic ICE book-ins per official ICE book-in equals the manifest's people-per-person factor
    ice = monthly(f"SELECT date_trunc('month', bi)::DATE, count(*) FROM stays WHERE method <> '{parameters.CBP_METHOD}' "
                  "GROUP BY 1").sum()
    factor = m["scale"]["synthetic_people_per_national_person"]
    assert abs(ice / cal.book_ins["ICE"][win].sum() / factor - 1) < 0.03
