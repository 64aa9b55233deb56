"""One ingest loads all its files or none; values, dates and names outside what a measure can be are refused
with one line unless an explicit override is given, and the edition records the override.

Every hostile file is made in the test from a real public file or from scratch; nothing large is committed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from icetrack.sources.ice_detention.tables import REQUIRED_TABLES, locate_table
from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, cell_ref, check_container, find_sheet
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.store import SCHEMA_VERSION

from helpers import shared_data_dir

SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="the real public files (../shared/data) are not present")
WORKBOOK = "ice-detention-stats/FY25_detentionStats06052025.xlsx"  # data as of 05/27/2025
ARRESTS = "uwchr-ice-enforce/aor-seattle-raw/CAP-FY2018-arrests.csv.gz"
FIGURES = "date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,1200,arrests,https://example.org/p\n"


def warehouse_state(path: Path) -> dict:
    """What a reader could see: editions, tables and their row counts (the file's bytes may be rewritten by
    DuckDB's checkpoint even when nothing was committed, so contents are compared, not bytes)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {"tables": {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables},
                "editions": sorted(r[0] for r in con.execute("SELECT edition_id FROM editions").fetchall())}
    finally:
        con.close()


def one_line_error(result, *names: str) -> str:
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output, result.output
    assert message.startswith("icetrack: error: "), message
    for name in names:
        assert name in message, message
    return message


# -- one ingest, all or nothing ------------------------------------------------------------------------------

@needs_shared
def test_good_csv_and_truncated_person_file_load_nothing(tmp_path, warehouse_path, icetrack):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "figures.csv").write_text(FIGURES)
    raw = (SHARED / ARRESTS).read_bytes()
    (folder / "arrests.csv.gz").write_bytes(raw[: len(raw) // 2])  # a download cut off half-way
    result = icetrack("ingest", str(folder), expect=2)
    one_line_error(result, "arrests.csv.gz")
    after = warehouse_state(warehouse_path)
    assert after == before  # the CSV's edition is not committed, and no (empty) person table was created
    assert "arrests" not in after["tables"] and not any(t.startswith("_staging_") for t in after["tables"])


def test_impossible_date_in_person_file_loads_nothing(tmp_path, warehouse_path, icetrack):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    (tmp_path / "figures.csv").write_text(FIGURES)
    person = tmp_path / "ddp.csv"
    person.write_text("unique_identifier,apprehension_date,apprehension_aor\n"
                      f"{'a' * 40},2024-02-30,Seattle Area of Responsibility\n")
    result = icetrack("ingest", str(tmp_path / "figures.csv"), str(person), expect=2)
    one_line_error(result, "ddp.csv")
    assert warehouse_state(warehouse_path) == before


@needs_shared
def test_same_person_file_twice_in_one_command_loads_once(tmp_path, icetrack):
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(SHARED / ARRESTS, folder / "CAP-FY2018-arrests.csv.gz")
    shutil.copy(SHARED / ARRESTS, folder / "CAP-FY2018-arrests (1).csv.gz")  # the browser's duplicate download
    result = icetrack("ingest", str(folder), str(folder / "CAP-FY2018-arrests.csv.gz"))
    out = result.stdout
    assert out.count("loaded edition") == 1, out
    assert out.count("same bytes as CAP-FY2018-arrests") == 2, out
    editions = icetrack.json("editions")
    assert sum(e["file_name"].startswith("CAP-FY2018-arrests") for e in editions) == 1


def cells_holding(path: Path, *values: str) -> int:
    """Cells anywhere in the warehouse (every table, every column, 'extra' maps included) holding a value."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
        return sum(con.execute(f'SELECT count(*) FROM "{t}" WHERE CAST("{c}" AS VARCHAR) LIKE ?',
                               [f"%{v}%"]).fetchone()[0] for t, c in columns for v in values)
    finally:
        con.close()


IDENTIFYING = ("unique_identifier,apprehension_date,apprehension_aor,Full Name,SSN\n"
               f"{'a' * 40},2024-02-03,Seattle Area of Responsibility,JANE DOE,123-45-6789\n"
               f"{'b' * 40},2024-02-04,Seattle Area of Responsibility,JOHN ROE,987-65-4321\n")


def test_identifying_columns_refuse_the_file_and_nothing_is_stored(tmp_path, warehouse_path, icetrack):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    (tmp_path / "figures.csv").write_text(FIGURES)
    (tmp_path / "persons.csv").write_text(IDENTIFYING)
    message = one_line_error(icetrack("ingest", str(tmp_path / "figures.csv"), str(tmp_path / "persons.csv"),
                                      expect=2), "persons.csv", "Full Name", "SSN", "--drop-identifiers")
    assert "JANE" not in message and "123-45" not in message  # columns are named, values never
    assert warehouse_state(warehouse_path) == before
    assert cells_holding(warehouse_path, "JANE DOE", "123-45-6789", "JOHN ROE") == 0


def test_drop_identifiers_loads_without_them_and_records_it(tmp_path, warehouse_path, icetrack):
    (tmp_path / "persons.csv").write_text(IDENTIFYING)
    out = icetrack("ingest", "--drop-identifiers", str(tmp_path / "persons.csv")).stdout
    assert "loaded edition" in out and "recorded on the edition: drop_identifiers: columns not loaded: " in out
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == "persons.csv")
    assert edition["overrides"].startswith("drop_identifiers: columns not loaded: Full Name (")
    assert "SSN (" in edition["overrides"]
    assert cells_holding(warehouse_path, "JANE DOE", "123-45-6789", "JOHN ROE", "987-65-4321") == 0
    con = duckdb.connect(str(warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM arrests").fetchone() == (2,)
    con.close()


# -- workbook values and dates ---------------------------------------------------------------------------------

def _book_ins_ice_october(path: Path) -> tuple[str, str]:
    """(sheet XML member, cell reference) of ICE-arrested book-ins in October, found as the parser finds it."""
    workbook = FastexcelWorkbook(path)
    sheet = find_sheet(workbook.sheet_names, "detention")
    grid = workbook.grid(sheet)
    table = locate_table(grid, REQUIRED_TABLES["ICE Initial Book-Ins by Arresting Agency and Month"])
    row = next(r for r in table.body if table.label(r).strip() == "ICE")
    col = next(c for c, month, _ in table.period_columns if month == 10)
    return check_container(path)[sheet], cell_ref(row, col)


def rewrite_workbook(src: Path, dst: Path, edit_member: dict[str, callable]) -> Path:
    """Copy a workbook, passing the named members' XML text through an edit function."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in edit_member:
                data = edit_member[info.filename](data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return dst


def with_cell(src: Path, dst: Path, content: str) -> tuple[Path, str]:
    member, ref = _book_ins_ice_october(src)

    def edit(xml: str) -> str:
        new, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', f'<c r="{ref}"{content}</c>', xml, count=1,
                         flags=re.DOTALL)
        assert n == 1
        return new

    return rewrite_workbook(src, dst, {member: edit}), ref


@needs_shared
@pytest.mark.parametrize("case, content, expected", [
    ("negative", "><v>-8611</v>", "-8,611 is negative"),
    ("infinite", "><v>1E+400</v>", "inf is not finite"),
    ("huge", "><v>1E+308</v>", "is above 1,000,000,000"),
    ("text", ' t="inlineStr"><is><t>N/A</t></is>', "holds 'N/A' where a number is expected"),
])
def test_impossible_count_cell_is_refused_naming_the_cell(tmp_path, warehouse_path, icetrack, case, content,
                                                         expected):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    path, ref = with_cell(SHARED / WORKBOOK, tmp_path / "FY25_detentionStats06052025.xlsx", content)
    message = one_line_error(icetrack("ingest", str(path), expect=2), "FY25_detentionStats06052025.xlsx",
                             "ICE Initial Book-Ins", f"cell {ref}", expected, "--allow-implausible")
    assert "Detention FY25" in message
    assert warehouse_state(warehouse_path) == before


@needs_shared
def test_negative_count_loads_only_with_the_override_and_the_edition_records_it(tmp_path, icetrack):
    path, ref = with_cell(SHARED / WORKBOOK, tmp_path / "FY25_detentionStats06052025.xlsx", "><v>-8611</v>")
    out = icetrack("ingest", "--allow-implausible", str(path)).stdout
    assert "recorded on the edition: allow_implausible:" in out and f"cell {ref}" in out
    # (The bundled national figures of the genuine file carry the same file name, other bytes.)
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == path.name and e["overrides"])
    assert f"cell {ref}: -8,611 is negative" in edition["overrides"]
    october = [r for r in icetrack.json("series", "book_ins", "--agency", "ICE", "--vintage", "all")
               if r["period_start"] == "2024-10-01" and r["edition_id"] == edition["edition_id"]]
    assert [r["value"] for r in october] == [-8611.0]


@needs_shared
def test_as_of_date_in_the_future_is_refused(tmp_path, warehouse_path, icetrack):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    src = SHARED / WORKBOOK
    path = rewrite_workbook(src, tmp_path / src.name,
                            {"xl/sharedStrings.xml": lambda xml: xml.replace("(IIDS), 05/27/2025", "(IIDS), 12/31/2999")})
    one_line_error(icetrack("ingest", str(path), expect=2), src.name, "as-of date 2999-12-31 is after")
    assert warehouse_state(warehouse_path) == before
    # With the override it loads and says so on the edition; it never silently becomes "the latest".
    icetrack("ingest", "--allow-implausible", str(path))
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == src.name and e["overrides"])
    assert edition["as_of"].startswith("2999-12-31") and "as-of date 2999-12-31 is after" in edition["overrides"]


# -- the figures and targets CSVs ------------------------------------------------------------------------------

@pytest.mark.parametrize("case, text, expected", [
    ("year_one", "date,measure,value,unit,source_url\n0001-01-01,ice_posted_arrests,5,arrests,https://x.org/a\n",
     "row 2: date 0001-01-01 is before 1892-01-01"),
    ("year_9999", "date,measure,value,unit,source_url\n9999-12-31,ice_posted_arrests,5,arrests,https://x.org/a\n",
     "row 2: date 9999-12-31 is after"),
    ("long_name", f"date,measure,value,unit,source_url\n2025-01-01,{'m' * 5000},5,arrests,https://x.org/a\n",
     "row 2: measure is 5,000 characters long; at most 64"),
    ("as_of_future", "date,measure,value,unit,source_url,as_of\n"
                     "2025-01-01,ice_posted_arrests,5,arrests,https://x.org/a,2999-01-01\n",
     "as_of 2999-01-01 is after"),
    ("detained_5m", "date,measure,value,unit,source_url\n2025-01-01,currently_detained,5000000,persons,https://x.org/a\n",
     "row 2: value 5,000,000 is above 1,000,000, more than any currently detained (ice workbook) figure can be"),
    ("huge_target", "target_id,kind,label,concept,scope,value_low,value_high,unit,source_url\n"
                    "t1,target,T,arrests,national,1,1e12,arrests per day,https://x.org/t\n",
     "row 2: value_high 1e+12 is above 1,000,000,000"),
])
def test_implausible_csv_is_refused(tmp_path, warehouse_path, icetrack, case, text, expected):
    icetrack("editions")
    before = warehouse_state(warehouse_path)
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    one_line_error(icetrack("ingest", str(path), expect=2), f"{case}.csv", expected)
    assert warehouse_state(warehouse_path) == before


def test_implausible_csv_date_loads_with_override_recorded(tmp_path, icetrack):
    path = tmp_path / "old.csv"
    path.write_text("date,measure,value,unit,source_url\n0001-01-01,ice_posted_arrests,5,arrests,https://x.org/a\n")
    icetrack("ingest", "--allow-implausible", str(path))
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == "old.csv")
    assert edition["overrides"].startswith("allow_implausible: 1 value(s) outside the plausible range loaded: "
                                           "row 2: date 0001-01-01 is before 1892-01-01")


# -- the warehouse file ----------------------------------------------------------------------------------------

def test_writer_waits_for_a_reader_to_let_go(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    open_warehouse(path, load_reference=False).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(path)!r}, read_only=True)
        print("held", flush=True)
        time.sleep(1.5)
        con.close()
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("ICETRACK_LOCK_WAIT", "0")
        with pytest.raises(Exception, match="cannot open warehouse"):
            open_warehouse(path, load_reference=False)
        monkeypatch.setenv("ICETRACK_LOCK_WAIT", "20")
        started = time.monotonic()
        with open_warehouse(path, load_reference=False) as wh:
            assert not wh.read_only
        assert 0.2 < time.monotonic() - started < 20
    finally:
        holder.wait(timeout=30)


def test_schema_2_warehouse_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.duckdb"
    open_warehouse(path, load_reference=False).close()
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE editions DROP COLUMN overrides")
    con.execute("ALTER TABLE editions DROP COLUMN published_by")
    con.execute("ALTER TABLE editions DROP COLUMN structure")
    con.execute("ALTER TABLE editions DROP COLUMN data_source_date")
    for column in ("effective_to", "date_precision", "track"):
        con.execute(f"ALTER TABLE targets DROP COLUMN {column}")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(Exception, match="open it once read-write"):
        open_warehouse(path, read_only=True)
    with open_warehouse(path, load_reference=False) as wh:
        assert wh.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (SCHEMA_VERSION,)
        assert {"overrides", "published_by", "structure"} <= set(wh.editions().columns)


# -- editions from a web-archive download ----------------------------------------------------------------------

def test_archive_capture_bounds_when_an_undated_edition_was_public(tmp_path, warehouse_path, icetrack):
    from datetime import date

    from icetrack.domain.edition import file_digest
    from icetrack.warehouse.vintage import KnownBy, observations

    folder = tmp_path / "downloads"
    folder.mkdir()
    figures = folder / "figures.csv"
    figures.write_text(FIGURES)
    sha, size = file_digest(figures)
    (folder / "archive-manifest.tsv").write_text(
        "file_name\tsha256\tsize_bytes\toriginal_url\tfirst_capture\tlast_capture\tfirst_capture_url\tcaptures\n"
        f"figures.csv\t{sha}\t{size}\thttps://example.org/figures.csv\t2025-03-04T10:00:00Z\t2025-05-01T00:00:00Z"
        "\thttps://web.archive.org/web/20250304100000id_/https://example.org/figures.csv\t3\n")
    icetrack("ingest", str(figures))
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == "figures.csv")
    assert edition["published_on"] is None and edition["published_by"].startswith("2025-03-04")
    with open_warehouse(warehouse_path, read_only=True) as wh:
        def known_by(day):
            t = observations(wh.ibis(), KnownBy(day))
            return t.filter(t.edition_id == edition["edition_id"]).count().execute()
        # Undated editions are left out of a known-by vintage, unless an archive saw them by that day.
        assert (known_by(date(2025, 3, 3)), known_by(date(2025, 3, 4))) == (0, 1)
