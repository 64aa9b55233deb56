"""`icetrack export` of a warehouse holding a person-level (SYNTHETIC) release: the published outcome tables are
written beside the aggregate measures - exactly the rows `icetrack outcomes ... --csv` prints and the figures
return, suppressed cells empty and flagged, never a number - described in a valid datapackage.json with the
threshold, the releases and their sha256; `--no-outcomes` and named MEASUREs leave them out, the threshold
cannot be lowered, and no identifier of the release's people reaches any exported file."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import socket
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import Icetrack, sha256, read_export_file

FORMATS = ("parquet", "csv", "xlsx", "dta")
OUTCOME_TABLES = ("outcomes_flows_month", "outcomes_funnel_month", "outcomes_survival_arrest_km",
                  "outcomes_survival_arrest_cif")
ADDED = ("synthetic", "suppressed")  # the two columns the export adds to the published ones
CLI = {"outcomes_flows_month": ("flows", "--period", "month"), "outcomes_funnel_month": ("funnel", "--period", "month"),
       "outcomes_survival_arrest_km": ("km", "--origin", "arrest"),
       "outcomes_survival_arrest_cif": ("cif", "--origin", "arrest")}


@pytest.fixture(scope="module")
def synth(synthetic_warehouse) -> Icetrack:
    return Icetrack(synthetic_warehouse)


@pytest.fixture(scope="module")
def outcome_exports(synth, tmp_path_factory) -> dict[str, Path]:
    """Only the outcome tables (MEASURE `outcomes`), once per format."""
    root = tmp_path_factory.mktemp("outcome_exports")
    out = {}
    for fmt in FORMATS:
        result = synth("export", "--format", fmt, "--out", str(root / fmt), "outcomes")
        assert "4 of them published outcome tables, cells under 10 suppressed" in result.stdout
        out[fmt] = root / fmt
    return out


@pytest.fixture(scope="module")
def full_export(synth, tmp_path_factory) -> Path:
    """The default export (every measure and the outcome tables), Parquet."""
    out = tmp_path_factory.mktemp("full") / "out"
    synth("export", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def published(synthetic_warehouse) -> dict[str, list[dict]]:
    """What the figures (the API) publish for each outcome table, at the default threshold."""
    from icetrack.figures import outcomes
    from icetrack.warehouse import open_warehouse

    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        survival = outcomes.survival(wh, "arrest")
        return {"outcomes_flows_month": outcomes.flows(wh, "month").rows,
                "outcomes_funnel_month": outcomes.funnel(wh, "month").rows,
                "outcomes_survival_arrest_km": outcomes.survival_curve(survival, "km").rows,
                "outcomes_survival_arrest_cif": outcomes.survival_curve(survival, "cif").rows}


@pytest.fixture
def offline(monkeypatch):
    """Validation must not download anything (profiles, schemas): any connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access during datapackage validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _package(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def _resource(folder: Path, name: str) -> dict:
    return next(r for r in _package(folder)["resources"] if r["name"] == name)


def _empty(v) -> bool:
    return v is None or v == "" or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _typed(v, kind: str):
    """A cell as comparable across formats: empty None, dates ISO, numbers float, text str."""
    if _empty(v):
        return None
    if kind == "date":
        return v.date().isoformat() if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v[:10]
    if kind in ("integer", "number"):
        return float(v)
    return str(v)


def _table(folder: Path, fmt: str, name: str) -> tuple[list[dict], dict[str, str]]:
    resource = _resource(folder, name)
    types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    return read_export_file(folder / resource["path"], fmt), types


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", OUTCOME_TABLES)
def test_each_outcome_table_is_the_published_table(outcome_exports, published, fmt, name):
    rows, types = _table(outcome_exports[fmt], fmt, name)
    expected = published[name]
    assert rows and len(rows) == len(expected)
    assert list(rows[0]) == [*expected[0], *ADDED]  # the published columns, in order, then the two added
    for got, want in zip(rows, expected):
        assert {k: _typed(got[k], types[k]) for k in want} == {k: _typed(v, types[k]) for k, v in want.items()}
        assert got["synthetic"] in (True, 1, "True")


@pytest.mark.parametrize("name", OUTCOME_TABLES)
def test_csv_matches_what_icetrack_outcomes_csv_prints(synth, outcome_exports, name):
    """Cell for cell, as text: the exported CSV less its two added columns is the CLI's `--csv`."""
    printed = list(csv.reader(io.StringIO(synth("outcomes", *CLI[name], "--csv").stdout)))
    with (outcome_exports["csv"] / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        exported = [row[:-len(ADDED)] for row in csv.reader(f)]
    assert exported == printed and len(printed) > 2


def test_flows_match_icetrack_outcomes_flows_json(synth, outcome_exports):
    printed = synth.json("outcomes", "flows", "--period", "month")
    assert printed["threshold"] == 10
    exported = pq.read_table(outcome_exports["parquet"] / "outcomes_flows_month.parquet").to_pylist()
    assert [{**r, "period_start": r["period_start"].isoformat()} for r in exported] == [
        {**r, "synthetic": True, "suppressed": " ".join(k for k in ("arrests", "book_ins", "removals") if r[k] is None)}
        for r in printed["rows"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_suppressed_cells_are_empty_and_flagged_never_a_number(outcome_exports, published, fmt):
    """Null in Parquet, missing in Stata, blank in CSV and Excel; each named in the row's 'suppressed', and
    nothing else is."""
    flagged = 0
    for name in OUTCOME_TABLES:
        rows, types = _table(outcome_exports[fmt], fmt, name)
        for got, want in zip(rows, published[name]):
            hidden = {k for k, v in want.items() if v is None}
            assert {k for k in want if _empty(got[k])} == hidden
            assert set((got["suppressed"] or "").split()) == hidden, (name, got)
            flagged += len(hidden)
    assert flagged >= 40  # flows and the funnel by month of this release suppress cells (the test is not vacuous)


def test_suppressed_values_in_parquet_and_stata_are_null_and_missing(outcome_exports):
    funnel = pq.read_table(outcome_exports["parquet"] / "outcomes_funnel_month.parquet")
    assert funnel.schema.field("transferred_count").type == pa.int64()
    assert funnel.schema.field("cutoff").type == pa.date32()
    assert funnel.column("transferred_count").null_count == 5
    first = funnel.slice(0, 1).to_pylist()[0]
    assert (first["cohort"], first["removed_count"], first["transferred_count"], first["transferred_share"]) == (
        "2024-10-01", 97, None, None)
    with pd.io.stata.StataReader(outcome_exports["dta"] / "outcomes_funnel_month.dta") as reader:
        raw = reader.read(convert_dates=False, convert_missing=True)
        labels = reader.variable_labels()
    assert isinstance(raw["transferred_count"].iloc[0], pd.io.stata.StataMissingValue)
    assert raw["removed_count"].iloc[0] == 97 and raw["synthetic"].tolist() == [1] * len(raw)
    assert labels["removed_count"] == "Arrests removed at the cut-off"


def _release_files(synthetic_release: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in synthetic_release.glob("*.parquet")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_datapackage_states_threshold_releases_sha256_and_synthetic(outcome_exports, published, synthetic_release,
                                                                   fmt, offline):
    from frictionless import Package

    folder = outcome_exports[fmt]
    package = _package(folder)
    report = Package.validate_descriptor(package)
    assert report.valid, report.flatten(["type", "note"])
    assert [r["name"] for r in package["resources"]] == list(OUTCOME_TABLES)
    assert package["icetrack"]["outcomes"] == {"threshold": 10, "tables": list(OUTCOME_TABLES), "synthetic": True}
    files = _release_files(synthetic_release)
    release_id = published["outcomes_flows_month"][0]["release_id"]
    for r in package["resources"]:
        assert "cells under 10 (the threshold) are suppressed" in r["description"]
        assert r["suppression"]["threshold"] == 10 and r["synthetic"] is True and "SYNTHETIC" in r["title"]
        assert r["rows"] == len(published[r["name"]]) and r["mediatype"] and r["format"] == fmt
        assert [x["release_id"] for x in r["releases"]] == [release_id]
        assert r["releases"][0]["cutoff"] == "2025-03-31" and r["releases"][0]["synthetic"] is True
        assert {e["file_name"]: e["sha256"] for e in r["releases"][0]["editions"]} == files
        assert {s["file_name"]: s["sha256"] for s in r["sources"]} == files
        assert all(s["synthetic"] for s in r["sources"])
        fields = r["schema"]["fields"]
        assert all(f["type"] and f["title"] and f["description"] for f in fields)
        assert [f["name"] for f in fields] == list(read_export_file(folder / r["path"], fmt)[0])
    assert _resource(folder, "outcomes_flows_month")["suppression"]["audit"] == []
    assert _resource(folder, "outcomes_funnel_month")["suppression"]["audit"] == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_frictionless_reads_every_outcome_row_against_its_schema(outcome_exports, fmt, offline):
    from frictionless import validate

    report = validate(str(outcome_exports[fmt] / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]
    assert report.stats["tasks"] == 4


def test_default_export_writes_the_measures_and_the_outcome_tables_and_nothing_else(synth, full_export, offline):
    from frictionless import Package

    package = _package(full_export)
    assert Package.validate_descriptor(package).valid
    measures = [r["measure"] for r in synth.json("measures")]
    expected = {*(f"{m}.parquet" for m in measures), *(f"{m}.revisions.parquet" for m in measures),
                *(f"{t}.parquet" for t in OUTCOME_TABLES), "datapackage.json"}
    assert {p.name for p in full_export.iterdir()} == expected
    assert {r["path"] for r in package["resources"]} == expected - {"datapackage.json"}


def test_no_outcomes_leaves_them_out(synth, full_export, tmp_path):
    out = tmp_path / "out"
    result = synth("export", "--no-outcomes", "--out", str(out))
    assert "published outcome tables" not in result.stdout and "wrote 90 parquet files" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert not any(n.startswith("outcomes") for n in names)
    assert names == {p.name for p in full_export.iterdir()} - {f"{t}.parquet" for t in OUTCOME_TABLES}
    assert "outcomes" not in _package(out)["icetrack"]


def test_named_measures_write_outcomes_only_when_named(synth, tmp_path):
    synth("export", "--out", str(tmp_path / "one"), "removals_fytd")
    assert {p.name for p in (tmp_path / "one").iterdir()} == {
        "removals_fytd.parquet", "removals_fytd.revisions.parquet", "datapackage.json"}
    synth("export", "--format", "csv", "--out", str(tmp_path / "two"), "removals_fytd", "outcomes")
    assert {p.name for p in (tmp_path / "two").iterdir()} == {
        "removals_fytd.csv", "removals_fytd.revisions.csv", "datapackage.json", *(f"{t}.csv" for t in OUTCOME_TABLES)}


def _one_line_error(result, contains: str) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("icetrack: error: ") and contains in lines[0], result.stderr


def test_outcomes_named_with_no_outcomes_or_without_person_data_is_refused(synth, bundled_warehouse, tmp_path):
    out = tmp_path / "out"
    _one_line_error(synth("export", "--no-outcomes", "--out", str(out), "outcomes", expect=2),
                    "'outcomes' is named and --no-outcomes is given")
    _one_line_error(Icetrack(bundled_warehouse)("export", "--out", str(out), "outcomes", expect=2),
                    "cannot export 'outcomes': No person-level records are loaded")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--suppress-below", "--threshold"])
def test_the_threshold_cannot_be_lowered(synth, tmp_path, option):
    result = synth("export", option, "1", "--out", str(tmp_path / "out"), expect=2)
    assert f"No such option '{option}'" in result.output
    assert list(tmp_path.iterdir()) == []


def _identifiers(synthetic_release: Path) -> set[str]:
    ids: set[str] = set()
    for path in synthetic_release.glob("*.parquet"):
        table = pq.read_table(path)
        if "unique_identifier" in table.column_names:
            ids |= {v for v in table.column("unique_identifier").to_pylist() if v}
    return ids


def _contents(path: Path) -> str:
    """Everything a file holds, decoded: raw bytes, an Excel file's (zipped) XML, a Parquet file's cells."""
    raw = path.read_bytes()
    parts = [raw.decode("latin-1")]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        parts += [json.dumps(table.to_pylist(), default=str), str(table.schema.metadata)]
    return "\n".join(parts)


def test_no_identifier_of_the_releases_people_is_in_any_exported_file(outcome_exports, full_export,
                                                                      synthetic_release):
    ids = _identifiers(synthetic_release)
    assert len(ids) > 1000 and all(len(i) == 40 for i in ids)
    prefixes = {i[:16] for i in ids}  # any 16 hex digits of an identifier's start: a shortened one is one too
    files = [p for folder in (*outcome_exports.values(), full_export) for p in folder.iterdir()]
    assert len(files) == 4 * 5 + len(list(full_export.iterdir()))
    for path in files:
        text = _contents(path).lower()
        if path.stem in ("outcomes_flows_month", "outcomes_funnel_month"):
            assert "synthetic:seed1" in text  # their release id is there: the search reads the file's cells
        assert not _hex16(text) & prefixes, path.name
    planted = f"x,{min(ids)},1\r\n"
    assert _hex16(planted) & prefixes  # the search does find an identifier where there is one


def _hex16(text: str) -> set[str]:
    """Every run of 16 hex digits in ``text`` (each window of a longer run)."""
    return {run[k:k + 16] for run in re.findall(r"[0-9a-f]{16,}", text) for k in range(len(run) - 15)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_table_with_no_published_row_is_written_with_its_columns(tmp_path, fmt):
    """A small release can have every curve row suppressed (its group's size below the threshold): the file is
    still written, header and types, no row."""
    from icetrack.report import export_outcomes as eo
    from icetrack.report.export import _write

    base = {"releases": [{"release_id": "r", "cutoff": "2025-03-31", "synthetic": True, "editions": []}],
            "edition_ids": set()}
    table = eo._table("outcomes_survival_arrest_km", [], ["group", "time", "at_risk", "survival", "ci_lower",
                                                          "ci_upper"], "title", "description", definitions=None,
                      audit=None, base=base, command="km --origin arrest")
    path = tmp_path / f"t.{fmt}"
    _write(table, {}, path, fmt)
    columns = ["group", "time", "at_risk", "survival", "ci_lower", "ci_upper", *ADDED]
    if fmt == "parquet":
        read = pq.read_table(path)
        assert read.num_rows == 0 and read.column_names == columns and read.schema.field("time").type == pa.int64()
    elif fmt == "csv":
        assert path.read_bytes().decode("utf-8") == ",".join(columns) + "\r\n"
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        assert [list(r) for r in load_workbook(path)["data"].iter_rows(values_only=True)] == [columns]
    else:
        assert pd.read_stata(path).columns.tolist() == columns
