"""`icetrack export`: tidy tables in four formats that read back as the figures `icetrack series --json` prints,
a revisions table checked by hand on one figure, a Frictionless datapackage.json, and bad input refused with
one line and nothing written."""

from __future__ import annotations

import csv
import json
import socket
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers import Icetrack, read_export_file

from icetrack import __version__
from icetrack.domain.catalogue import CATALOGUE

FORMATS = ("parquet", "csv", "xlsx", "dta")


@pytest.fixture(scope="module")
def bundled(bundled_warehouse) -> Icetrack:
    return Icetrack(bundled_warehouse)


@pytest.fixture(scope="module")
def exports(bundled, tmp_path_factory) -> dict[str, Path]:
    """The bundled warehouse exported once per format (every measure, latest vintage)."""
    root = tmp_path_factory.mktemp("exports")
    out = {}
    for fmt in FORMATS:
        result = bundled("export", "--format", fmt, "--out", str(root / fmt))
        assert f"{fmt} files" in result.stdout
        out[fmt] = root / fmt
    return out


@pytest.fixture(scope="module")
def expected(bundled) -> dict[str, list[tuple]]:
    """`icetrack series MEASURE --json` of every loaded measure, as comparable rows."""
    measures = [r["measure"] for r in bundled.json("measures")]
    assert len(measures) == 45  # the bundled national figures and reference files
    return {m: sorted(_row(r["dims"], r) for r in bundled.json("series", m)) for m in measures}


def _iso(v) -> str | None:
    if v is None or v == "" or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, (datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _text(v) -> str | None:
    return None if v is None or v == "" or (isinstance(v, float) and v != v) else str(v)


def _row(dims: dict, r: dict) -> tuple:
    return (tuple(sorted((k, v) for k, v in dims.items() if _text(v) is not None)), _iso(r["period_start"]),
            _iso(r["period_end"]), r["grain"], float(r["value"]), r["unit"], r["edition_id"], _iso(r["as_of"]),
            _iso(r["published_on"]), _text(r["source_url"]), _text(r["note"]))


def _package(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def _exported(folder: Path, fmt: str, name: str) -> list[tuple]:
    resource = next(r for r in _package(folder)["resources"] if r["name"] == name)
    dims = {f["name"]: f["dimension"] for f in resource["schema"]["fields"] if "dimension" in f}
    return sorted(_row({d: r[c] for c, d in dims.items()}, r) for r in read_export_file(folder / resource["path"], fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_measure_reads_back_as_icetrack_series_prints_it(exports, expected, fmt):
    folder = exports[fmt]
    names = {r["name"] for r in _package(folder)["resources"]}
    assert names == set(expected) | {f"{m}.revisions" for m in expected}
    for measure, rows in expected.items():
        assert rows, measure
        if fmt == "xlsx":  # openpyxl writes numbers with 16 significant digits ("%.16g"): 18608.548387096773
            rows = sorted(r[:4] + (float("%.16g" % r[4]),) + r[5:] for r in rows)  # reads back 18608.54838709677
        assert _exported(folder, fmt, measure) == rows, measure
    book_ins = _exported(folder, fmt, "book_ins")
    assert ((("agency", "ICE"),), "2025-01-01", "2025-01-31", "month", 11753.0) in [r[:5] for r in book_ins]


@pytest.mark.parametrize("fmt", FORMATS)
def test_revisions_of_january_2025_ice_book_ins(exports, fmt, bundled):
    """2,363 (the 01/16/2025 workbook, a partial month) ... 11,758 ... settles at 11,753 (09/11/2025), 16
    editions - the README's figure, and what `icetrack revisions` prints."""
    folder = exports[fmt]
    resource = next(r for r in _package(folder)["resources"] if r["name"] == "book_ins.revisions")
    rows = [r for r in read_export_file(folder / resource["path"], fmt)
            if r["agency"] == "ICE" and _iso(r["period_start"]) == "2025-01-01"]
    assert len(rows) == 1
    r = rows[0]
    assert (int(r["n_editions"]), float(r["first_value"]), float(r["latest_value"]), float(r["min_value"]),
            float(r["max_value"])) == (16, 2363, 11753, 2363, 11758)
    files = {s["edition_id"]: s["file_name"] for s in resource["sources"]}
    assert files[r["first_edition_id"]] == "FY25_detentionStats01162025.xlsx"
    assert files[r["latest_edition_id"]] == "FY25_detentionStats09112025.xlsx"
    shown = bundled.json("revisions", "book_ins", "--agency", "ICE", "--period", "2025-01")["series"][0]
    assert (shown["n_editions"], shown["first_value"], shown["latest_value"], shown["min_value"],
            shown["max_value"]) == (16, 2363, 11753, 2363, 11758)


@pytest.fixture
def offline(monkeypatch):
    """Validation must not download anything (profiles, schemas): any connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access during datapackage validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("fmt", FORMATS)
def test_datapackage_is_a_valid_frictionless_package_with_units_definitions_and_sources(exports, fmt, bundled,
                                                                                         offline):
    from frictionless import Package

    folder = exports[fmt]
    package = _package(folder)
    report = Package.validate_descriptor(package)
    assert report.valid, report.flatten(["type", "note"])
    assert package["icetrack"] == {"version": __version__, "vintage": "latest"}
    editions = {e["edition_id"]: e for e in bundled.json("editions")}
    units = {r["measure"]: r["unit"] for r in bundled.json("measures")}
    # one bundled reference figure (funded detention beds, from a user-format CSV) has no catalogue entry
    assert [r["name"] for r in package["resources"] if r["measure"] not in CATALOGUE] == [
        "funded_detention_beds", "funded_detention_beds.revisions"]
    for r in package["resources"]:
        assert r["format"] == fmt and (folder / r["path"]).is_file()
        assert r["mediatype"] == {"parquet": "application/vnd.apache.parquet", "csv": "text/csv",
                                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                  "dta": "application/x-stata-dta"}[fmt]
        m = CATALOGUE.get(r["measure"])
        assert (r["unit"], r["definition"]) == ((m.unit, m.definition) if m else (units[r["measure"]], None))
        fields = r["schema"]["fields"]
        assert all(f["type"] and f["description"] for f in fields)
        columns = list(read_export_file(folder / r["path"], fmt)[0]) if r["rows"] else None
        assert columns is None or columns == [f["name"] for f in fields], r["name"]
        assert r["sources"]
        for s in r["sources"]:
            e = editions[s["edition_id"]]
            assert (s["file_name"], s["sha256"], s["original_url"]) == (e["file_name"], e["sha256"],
                                                                       e["original_url"])
            assert len(s["sha256"]) == 64
    book_ins = next(r for r in package["resources"] if r["name"] == "book_ins")
    assert {s["file_name"] for s in book_ins["sources"]} >= {"FY25_detentionStats09112025.xlsx"}
    value = next(f for f in book_ins["schema"]["fields"] if f["name"] == "value")
    assert value["type"] == ("number") and "book-ins" in value["title"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_frictionless_reads_every_row_against_its_schema(exports, fmt, offline):
    """Frictionless reads csv and xlsx itself: every row of every table matches its declared types."""
    from frictionless import validate

    report = validate(str(exports[fmt] / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]
    assert report.stats["tasks"] == 90


def test_stata_file_has_dates_labels_and_short_names(exports):
    folder = exports["dta"]
    reader = pd.io.stata.StataReader(folder / "book_ins.dta")
    with reader:
        raw = reader.read(convert_dates=False)
        labels = reader.variable_labels()
        data_label = reader.data_label
    assert all(len(c) <= 32 for c in raw.columns)
    assert data_label == CATALOGUE["book_ins"].label
    assert labels["value"].startswith("Value: ") and len(labels["value"]) <= 80
    assert labels["agency"] == "Dimension: agency"
    first = raw.iloc[0]
    days = (date.fromisoformat("2018-10-01") - date(1960, 1, 1)).days  # Stata dates count days from 1960-01-01
    assert (first["period_start"], first["agency"], first["value"]) == (days, "CBP", 28659.0)
    assert raw["synthetic"].tolist() == [0] * len(raw)


def test_vintage_all_and_one_edition(bundled, tmp_path):
    bundled("export", "--vintage", "all", "--out", str(tmp_path / "all"), "book_ins")
    rows = pq.read_table(tmp_path / "all" / "book_ins.parquet").to_pylist()
    assert len(rows) == len(bundled.json("series", "book_ins", "--vintage", "all")) == 675
    january = [r["value"] for r in rows if r["agency"] == "ICE" and r["period_start"] == date(2025, 1, 1)]
    assert len(january) == 16 and min(january) == 2363 and max(january) == 11758

    edition = next(e for e in bundled.json("editions") if e["file_name"] == "FY25_detentionStats01162025.xlsx")
    bundled("export", "--vintage", edition["edition_id"], "--format", "csv", "--out", str(tmp_path / "one"))
    package = _package(tmp_path / "one")
    assert package["icetrack"]["vintage"] == edition["edition_id"]
    names = {r["name"] for r in package["resources"]}
    assert "book_ins" in names and "ice_posted_arrests" not in names  # measures the edition lacks are left out
    with (tmp_path / "one" / "book_ins.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["edition_id"] for r in rows} == {edition["edition_id"]}
    assert [r["value"] for r in rows if r["agency"] == "ICE" and r["period_start"] == "2025-01-01"] == ["2363.0"]
    with (tmp_path / "one" / "book_ins.revisions.csv").open(encoding="utf-8") as f:
        revisions = list(csv.DictReader(f))
    assert len(revisions) == len(rows)  # the figures of that edition, with their history over every edition


def test_force_replaces_a_previous_export(bundled, tmp_path):
    out = tmp_path / "out"
    bundled("export", "--out", str(out), "book_ins", "removals_fytd")
    assert {p.name for p in out.iterdir()} == {"book_ins.parquet", "book_ins.revisions.parquet",
                                               "removals_fytd.parquet", "removals_fytd.revisions.parquet",
                                               "datapackage.json"}
    bundled("export", "--out", str(out), "--force", "--format", "csv", "removals_fytd")
    assert {p.name for p in out.iterdir()} == {"removals_fytd.csv", "removals_fytd.revisions.csv",
                                               "datapackage.json"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left beside it


def _one_line_error(result, contains: str) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("icetrack: error: ") and contains in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("argv, contains", [
    (["--format", "sas"], "unknown format 'sas'"),
    (["nosuchmeasure"], "unknown measure 'nosuchmeasure'"),
    (["book_ins", "nosuchmeasure"], "unknown measure 'nosuchmeasure'"),
    (["--vintage", "2025-01-01"], "unknown vintage '2025-01-01'"),
    (["--vintage", "ice_detention_workbook:0000000000000000"], "unknown vintage"),
])
def test_bad_input_is_one_line_and_writes_nothing(bundled, tmp_path, argv, contains):
    out = tmp_path / "parent" / "out"
    out.parent.mkdir()
    result = bundled("export", "--out", str(out), *argv, expect=2)
    _one_line_error(result, contains)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_that_is_not_empty_is_refused(bundled, tmp_path, force):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = bundled("export", "--out", str(out), *(["--force"] if force else []), "book_ins", expect=2)
    _one_line_error(result, "not an icetrack export" if force else "exists and is not empty")
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_that_is_a_file_or_missing_is_refused(bundled, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    _one_line_error(bundled("export", "--out", str(target), expect=2), "is not a folder")
    _one_line_error(bundled("export", "book_ins", expect=2), "--out DIR is required")
    assert target.read_text() == "x"


def test_an_empty_folder_is_used(bundled, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    bundled("export", "--out", str(out), "removals_fytd")
    rows = pq.read_table(out / "removals_fytd.parquet").to_pylist()
    assert len(rows) == 29 and {r["measure"] for r in rows} == {"removals_fytd"}


def test_a_failure_while_writing_leaves_nothing_and_keeps_the_previous_export(bundled, tmp_path, monkeypatch):
    from icetrack.report import export as export_module

    out = tmp_path / "out"
    bundled("export", "--out", str(out), "removals_fytd")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def fail_on_second(frame, path):
        calls.append(path.name)
        if len(calls) == 2:
            raise OSError("disk full")
        path.write_bytes(b"partial")

    monkeypatch.setattr(export_module, "_write_xlsx", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        bundled("export", "--out", str(out), "--force", "--format", "xlsx", "book_ins", "removals_fytd")
    assert calls == ["book_ins.xlsx", "book_ins.revisions.xlsx"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        bundled("export", "--out", str(tmp_path / "new"), "--format", "xlsx", "book_ins")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_xlsx_text_is_never_a_formula(tmp_path):
    from openpyxl import load_workbook

    from icetrack.report.export import _write_xlsx

    frame = pd.DataFrame({"note": ["=HYPERLINK(\"http://x\",\"y\")", "plain"], "period_start": [date(2025, 1, 1),
                                                                                               None]})
    _write_xlsx(frame, tmp_path / "t.xlsx")
    ws = load_workbook(tmp_path / "t.xlsx")["data"]
    assert ws["A2"].data_type == "s" and ws["A2"].value == "=HYPERLINK(\"http://x\",\"y\")"
    assert ws["B2"].is_date and ws["B2"].value == datetime(2025, 1, 1) and ws["B3"].value is None
