"""ICE detention workbooks end to end: ingest, vintages, revisions, copies, bundle (issue 3)."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from icetrack.sources.ice_detention_bundle import build_bundle, bundle_path

from helpers import Icetrack, sha256

# FORMATS.md section 1: (file, as-of, currently detained, removals FYTD)
EDITIONS = [
    ("FY25_detentionStats12112024.xlsx", "2024-11-12", 39080, 40658),
    ("FY25_detentionStats01162025.xlsx", "2025-01-06", 39703, 76939),
    ("third-party-modified/FY25_detentionStats02032025_markedup.xlsx", "2025-01-21", 39238, 85769),
    ("third-party-modified/FY25_detentionStats02142025_markedup.xlsx", "2025-02-08", 41169, 95474),
    ("FY25_detentionStats02272025.xlsx", "2025-02-18", 43759, 103868),
    ("FY25_detentionStats06052025.xlsx", "2025-05-27", 51302, 181360),
    ("FY25_detentionStats08292025.xlsx", "2025-08-18", 61226, 283295),
    ("FY26_detentionStats02022026.xlsx", "2026-01-22", 70766, 144378),
]
# Each edition as of its detention tables' footnote dates (their IIDS Data Source lines say 01-06, 01-21,
# 02-08, 02-18 and 03-03).
JANUARY_2025_ICE_BOOK_INS = [("2025-01-12", 2363), ("2025-01-26", 6552), ("2025-02-09", 11758),
                             ("2025-02-23", 11755), ("2025-03-09", 11753)]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, request):
    from helpers import shared_data_dir

    data = shared_data_dir()
    if data is None:
        pytest.skip("../shared/data is not present beside this checkout")
    wh = tmp_path_factory.mktemp("wh") / "wh.duckdb"
    run = Icetrack(wh)
    result = run("ingest", str(data / "ice-detention-stats"))
    return run, data, result


def _by_edition(rows, key="as_of"):
    return {r[key]: r["value"] for r in rows}


def test_whole_folder_loads_every_edition(loaded):
    run, data, result = loaded
    files = sorted((data / "ice-detention-stats").rglob("*.xlsx"))
    editions = [e for e in run.json("editions") if e["source"] == "ice_detention_workbook"]
    assert len(editions) == len(files) == 30
    assert {e["completeness"] for e in editions} == {"full"}
    assert result.stdout.count("replaced the bundled national subset") == 30


@pytest.mark.parametrize("file,as_of,detained,removals", EDITIONS)
def test_formats_md_values_per_edition(loaded, file, as_of, detained, removals):
    run, data, _ = loaded
    edition = next(e for e in run.json("editions") if e["file_name"] == Path(file).name)
    # The validation table dates editions by the IIDS "Data Source" line: `--dating data-source` gives it.
    assert edition["data_source_date"][:10] == as_of
    vintage = edition["edition_id"]
    total = ("--dim", "agency=Total", "--dim", "criminality=Total")
    cd = run.json("series", "currently_detained", "--vintage", vintage, *total, "--dating", "data-source")
    assert [(r["period_start"], r["value"]) for r in cd] == [(as_of, detained)]
    rem = run.json("series", "removals_fytd", "--vintage", vintage, "--dating", "data-source")
    assert [(r["period_end"], r["value"]) for r in rem] == [(as_of, removals)]
    # By default a table is dated by its footnote: the snapshot by the edition's as-of date.
    cd = run.json("series", "currently_detained", "--vintage", vintage, *total)
    assert [(r["period_start"], r["value"]) for r in cd] == [(edition["as_of"][:10], detained)]


def test_january_2025_revision_path(loaded):
    run, _, _ = loaded
    result = run.json("revisions", "book_ins", "--agency", "ICE", "--period", "2025-01")
    (series,) = result["series"]
    path = [(e["as_of"], e["value"]) for e in series["editions"]]
    assert path[:5] == JANUARY_2025_ICE_BOOK_INS
    assert path[-1] == ("2025-09-07", 11753)
    assert series["editions"][1]["change"] == 6552 - 2363
    assert series["first_value"] == 2363 and series["latest_value"] == 11753
    assert all(e["flags"] == [] for e in series["editions"])
    assert set(result) >= {"measure", "period", "period_start", "period_end", "filters", "flags_legend", "series"}


def test_series_latest_vintage_json(loaded):
    run, _, _ = loaded
    rows = run.json("series", "book_ins", "--agency", "ICE", "--vintage", "latest")
    jan = [r for r in rows if r["period_start"] == "2025-01-01"]
    assert [(r["value"], r["as_of"], r["grain"]) for r in jan] == [(11753, "2025-09-07", "month")]
    feb = next(r for r in rows if r["period_start"] == "2025-02-01")
    assert feb["value"] == 17378  # REFERENCE.md: about 621 a day
    assert set(rows[0]) >= {"edition_id", "measure", "dims", "period_start", "period_end", "grain", "value",
                            "unit", "as_of", "published_on", "source_url"}
    assert all(r["dims"] == {"agency": "ICE"} for r in rows)


def test_fy24_monthly_book_ins_equal_the_validation_table(loaded):
    run, data, _ = loaded
    expected = {(r["month_start"], r["arresting_agency"]): int(r["initial_book_ins"]) for r in csv.DictReader(
        open(data / "ddp-core-paper-validation" / "dtm_monthly_bookins_by_agency_fy2024.csv"))}
    fy24 = [e for e in run.json("editions") if e["file_name"] == "FY24_detentionStats.xlsx"]
    assert len(fy24) == 1
    rows = run.json("series", "book_ins", "--vintage", fy24[0]["edition_id"])
    got = {(r["period_start"], r["dims"]["agency"]): r["value"] for r in rows}
    assert len(expected) == 36
    assert {k: got.get(k) for k in expected} == expected


def test_report_has_detention_charts_with_editions(loaded, tmp_path):
    run, _, _ = loaded
    out = tmp_path / "r.html"
    run("report", "--out", str(out))
    html = out.read_text()
    for title in ("Detained population against funded beds", "Monthly book-ins, ICE vs CBP arrests",
                  "Book-outs by reason and the removal share", "Average length of stay", "Removals to date"):
        assert f"<h3>{title}</h3>" in html
    assert html.count("<svg") >= 6
    assert "11,753" in html and "379 a day" in html and "17,378" in html and "621 a day" in html


def _rezip(src: Path, dst: Path, edit=None) -> Path:
    """Copy a workbook with other bytes (different compression), optionally editing one member's text."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if edit:
                data = edit(item.filename, data)
            zout.writestr(item, data)
    return dst


def test_second_copy_with_other_bytes_is_new_edition_and_differences_are_reported(shared_data, tmp_path, icetrack):
    original = shared_data / "ice-detention-stats" / "FY25_detentionStats02272025.xlsx"
    icetrack("ingest", str(original))

    def bump_removals(name: str, data: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return data
        # removals to date, and January 2025 ICE book-ins (11,755 in this edition; unique in the sheet)
        assert data.count(b"<v>11755</v>") <= 1
        return data.replace(b"<v>103868</v>", b"<v>103870</v>").replace(b"<v>11755</v>", b"<v>11760</v>")

    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    copy = _rezip(original, copy_dir / original.name, bump_removals)
    assert sha256(copy) != sha256(original)
    result = icetrack("ingest", str(copy))
    assert "loaded edition" in result.stdout
    assert "same data date as FY25_detentionStats02272025.xlsx" in result.stdout
    assert "figures differ" in result.stdout
    assert "removals_fytd [] 2024-10-01: 103868 there, 103870 here" in result.stdout
    rev = icetrack.json("revisions", "book_ins", "--agency", "ICE", "--period", "2025-01")
    path = [(e["value"], e["flags"]) for e in rev["series"][0]["editions"] if e["as_of"] == "2025-02-23"]
    assert sorted(path) == [(11755, ["same_as_of_differs"]), (11760, ["same_as_of_differs"])]
    assert all(e["flags"] == [] for e in rev["series"][0]["editions"] if e["as_of"] != "2025-02-23")
    rows = icetrack.json("series", "removals_fytd", "--vintage", "all")
    assert sorted(r["value"] for r in rows if r["as_of"] == "2025-02-23") == [103868, 103870]


def test_stale_repost_and_backwards_as_of_are_flagged(shared_data, tmp_path, icetrack):
    folder = shared_data / "ice-detention-stats"
    icetrack("ingest", str(folder / "FY25_detentionStats08292025.xlsx"), str(folder / "FY25_detentionStats08142025.xlsx"))
    # ICE re-posts the 08/14 tables under a later name: other bytes, same figures, older as-of date.
    repost_dir = tmp_path / "repost"
    repost_dir.mkdir()
    _rezip(folder / "FY25_detentionStats08142025.xlsx", repost_dir / "FY25_detentionStats09302025.xlsx")
    icetrack("ingest", str(repost_dir))
    rev = icetrack.json("revisions", "book_ins", "--agency", "ICE", "--period", "2025-01")
    flags = {e["file_name"]: e["flags"] for e in rev["series"][0]["editions"]}
    assert flags["FY25_detentionStats08142025.xlsx"] == []
    assert flags["FY25_detentionStats08292025.xlsx"] == []
    assert set(flags["FY25_detentionStats09302025.xlsx"]) == {"as_of_backwards", "stale_repost"}


def test_bad_workbooks_leave_the_warehouse_byte_identical(shared_data, tmp_path, icetrack, warehouse_path):
    icetrack("editions")
    before = sha256(warehouse_path)
    truncated = tmp_path / "FY25_detentionStats02272025.xlsx"
    truncated.write_bytes((shared_data / "ice-detention-stats" / "FY25_detentionStats02272025.xlsx").read_bytes()[:40_000])
    renamed = tmp_path / "notes.xlsx"
    renamed.write_text("this is not a workbook")
    for bad in (truncated, renamed):
        result = icetrack("ingest", str(bad), expect=2)
        assert result.stderr.startswith(f"icetrack: error: {bad.name}") and result.stderr.count("\n") == 1
        assert sha256(warehouse_path) == before
    # a good file and a bad file together: nothing is loaded (every file is parsed before any load)
    result = icetrack("ingest", str(shared_data / "ice-detention-stats" / "FY25_detentionStats12112024.xlsx"),
                      str(renamed), expect=2)
    assert sha256(warehouse_path) == before


def test_fresh_warehouse_has_the_bundled_national_figures(icetrack):
    rows = icetrack.json("series", "book_ins", "--agency", "ICE")
    assert next(r["value"] for r in rows if r["period_start"] == "2025-01-01") == 11753
    editions = [e for e in icetrack.json("editions") if e["source"] == "ice_detention_workbook"]
    assert len(editions) == 30 and {e["completeness"] for e in editions} == {"national"}
    assert not icetrack.json("series", "currently_detained")[0]["dims"].get("facility")


def test_bundle_rebuilds_identically_from_the_public_workbooks(shared_data, tmp_path):
    out, n_editions, n_rows = build_bundle(shared_data / "ice-detention-stats", tmp_path / "b.parquet")
    shipped = pq.read_table(bundle_path())
    rebuilt = pq.read_table(out)
    assert n_editions == 30 and rebuilt.num_rows == n_rows == shipped.num_rows
    assert rebuilt.equals(shipped)
    assert "facility_adp" not in set(shipped.column("measure").to_pylist())


def test_book_out_reasons_add_up_to_the_workbook_total_and_removal_share(loaded):
    from icetrack.metrics import detention
    from icetrack.warehouse import open_warehouse

    run, _, _ = loaded
    with open_warehouse(run.warehouse) as wh:
        con = wh.ibis()
        share = detention.removal_share(con).to_pandas()
        total = detention.book_outs_total(con).to_pandas()
    merged = share.merge(total, on="month")
    assert len(merged) == len(share) >= 30
    assert (merged.book_outs == merged.value).all()  # bond detail rows are not counted twice
    by_month = {str(m)[:7]: r for m, r in zip(share.month, share.removal_share)}
    assert round(by_month["2023-10"], 3) == 0.478  # REFERENCE.md: about 48%
    assert round(by_month["2025-08"], 3) == 0.903  # REFERENCE.md: about 91%
    assert share[share.month.astype(str) < "2023-10"].empty  # releases-only layout: no share
