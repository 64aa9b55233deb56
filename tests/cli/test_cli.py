"""The CLI package: every command registered, the one output helper, one-line errors with exit status 2."""
from __future__ import annotations

import csv
import importlib
import io
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from helpers import Icetrack

from icetrack import __version__
from icetrack.cli import cli
from icetrack.cli.output import console, emit, table

COMMANDS = {"ingest", "fetch", "rebuild-bundle", "editions", "measures", "series", "revisions", "facilities",
            "targets", "chart", "report", "quality", "check", "project", "outcomes", "synth", "serve", "export"}
OUTCOMES = {"funnel", "km", "cif", "flows", "workbook", "audit"}
GROUP_MODULES = ["ingest", "series", "facilities", "targets", "quality", "claims", "capacity", "outcomes", "synth",
                 "serve", "export"]


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == COMMANDS
    result = CliRunner().invoke(cli, ["outcomes", "--help"])
    assert {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()} == OUTCOMES


@pytest.mark.parametrize("name", GROUP_MODULES)
def test_each_command_module_is_registered(name):
    module = importlib.import_module(f"icetrack.cli.{name}")
    defined = [c for c in vars(module).values()
               if isinstance(c, click.Command) and c.callback.__module__ == module.__name__]
    assert defined, f"icetrack.cli.{name} defines no command"
    registered = set(cli.commands.values()) | set(cli.commands["outcomes"].commands.values())
    for command in defined:
        assert command in registered, f"{name}.{command.name} is not reachable from `icetrack`"


ROWS = [{"month": "2025-01", "arrests": 1200}, {"month": "2025-02", "arrests": 34}]


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.option("--synthetic", is_flag=True)
def demo(as_json: bool, as_csv: bool, synthetic: bool) -> None:
    def render(result: dict) -> None:
        rows = [(r["month"], f"{r['arrests']:,}") for r in result["rows"]]
        console.print(table(("month", "arrests"), rows, right={"arrests"}))

    emit({"metric": "demo", "synthetic": synthetic, "rows": ROWS}, render, as_json=as_json, as_csv=as_csv,
         csv_rows=ROWS)


def test_output_helper_table():
    out = CliRunner().invoke(demo, []).stdout
    assert out.splitlines() == ["┏━━━━━━━━┳━━━━━━━━┓", "┃month   ┃ arrests┃", "┡━━━━━━━━╇━━━━━━━━┩",
                                "│2025-01 │   1,200│", "│2025-02 │      34│", "└────────┴────────┘"]
    out = CliRunner().invoke(demo, ["--synthetic"]).stdout
    assert out.splitlines()[0] == "SYNTHETIC DATA: these figures come from a generated release, not from ICE."


def test_output_helper_json():
    out = CliRunner().invoke(demo, ["--json"]).stdout
    assert json.loads(out) == {"metric": "demo", "synthetic": False, "rows": ROWS}
    assert out.startswith('{\n  "metric": "demo",\n')  # indented by two


def test_output_helper_csv():
    out = CliRunner().invoke(demo, ["--csv"]).stdout
    assert out.splitlines() == ["month,arrests", "2025-01,1200", "2025-02,34"]


def _one_line_error(result, contains: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("icetrack: error: ") and contains in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("argv, contains", [
    (["ingest", "/nonexistent/figures.csv"], "/nonexistent/figures.csv: no such file or folder"),
    (["targets", "--by", "soon"], "--by 'soon' is not a date YYYY-MM-DD"),
    (["project", "--arrests-per-day", "many"], "--arrests-per-day 'many' is not a number"),
    (["series", "book_ins", "--dim", "agency"], "--dim 'agency' must look like name=value"),
])
def test_bad_option_is_one_line_and_exit_2(tmp_path, argv, contains):
    result = CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "wh.duckdb"), *argv], obj={})
    _one_line_error(result, contains)


def test_unknown_measure_is_one_line_and_exit_2(bundled_warehouse):
    result = Icetrack(bundled_warehouse)("series", "nosuchmeasure", expect=2)
    _one_line_error(result, "unknown measure 'nosuchmeasure' (loaded: ")


def test_library_error_is_one_line_and_exit_2(bundled_warehouse):
    """An error raised by the library (here EngineError: no person-level records) is turned into one line."""
    result = Icetrack(bundled_warehouse)("outcomes", "funnel", expect=2)
    _one_line_error(result, "no person-level records loaded")


def test_claims_file_problems_one_line_each(tmp_path, bundled_warehouse):
    bad = tmp_path / "claims.yaml"
    bad.write_text("format: nonsense\n")
    result = Icetrack(bundled_warehouse)("check", str(bad), expect=2)
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("icetrack: error: claims.yaml: ") for line in lines), result.stderr
    assert "Traceback" not in result.output


def test_a_bug_is_not_hidden():
    """Only the library's user-facing errors become one line; anything else still raises."""

    @cli.command("raise-a-bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    try:
        result = CliRunner().invoke(cli, ["raise-a-bug"], obj={})
    finally:
        cli.commands.pop("raise-a-bug")
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_python_m_icetrack_cli_version():
    result = subprocess.run([sys.executable, "-m", "icetrack.cli", "--version"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"icetrack, version {__version__}"


# -- standard JSON, CSV cells a spreadsheet reads as text, read-only commands ---------------------------------
def strict_json(text: str):
    """JSON as the standard defines it: NaN, Infinity and -Infinity are refused."""
    def refuse(constant: str):
        raise ValueError(f"not standard JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
def hostile_demo(as_json: bool, as_csv: bool) -> None:
    rows = [{"label": '=HYPERLINK("http://evil","x")', "value": -5, "share": float("nan")},
            {"label": "+1+1", "value": -1.5, "share": float("inf")},
            {"label": "-2+3+cmd|' /C calc'!A0", "value": 0, "share": -float("inf")},
            {"label": "@SUM(A1)", "value": 3, "share": 0.25},
            {"label": "\t=1+1", "value": None, "share": None},
            {"label": "\r=1+1", "value": "-12.5", "share": None},
            {"label": "a = b", "value": "2025-01-02", "share": None}]
    emit({"rows": rows}, lambda _: None, as_json=as_json, as_csv=as_csv, csv_rows=rows)


def test_output_helper_json_is_standard_json():
    out = CliRunner().invoke(hostile_demo, ["--json"]).stdout
    rows = strict_json(out)["rows"]
    assert [r["share"] for r in rows] == [None, None, None, 0.25, None, None, None]
    assert "NaN" not in out and "Infinity" not in out


def test_output_helper_csv_writes_formulas_as_text_and_numbers_as_numbers():
    out = CliRunner().invoke(hostile_demo, ["--csv"]).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["label"] for r in rows] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+1+1", "'-2+3+cmd|' /C calc'!A0",
                                          "'@SUM(A1)", "'\t=1+1", "'\r=1+1", "a = b"]
    assert [r["value"] for r in rows] == ["-5", "-1.5", "0", "3", "", "-12.5", "2025-01-02"]


def test_outcomes_workbook_json_is_standard_json(tmp_path):
    from hostile import zero_book_outs_csv

    icetrack = Icetrack(tmp_path / "wh.duckdb")
    icetrack("ingest", str(zero_book_outs_csv(tmp_path)))
    result = strict_json(icetrack("outcomes", "workbook", "--json").stdout)
    (month,) = [m for m in result["monthly"] if m["month"] == "2017-01"]
    assert month["book_outs"] == 0 and month["removal_share"] is None  # 0 / 0 has no value


READING_COMMANDS = [["editions", "--json"], ["series", "book_ins", "--agency", "ICE", "--json"],
                    ["series", "ice_posted_arrests", "--csv"],
                    ["revisions", "book_ins", "--agency", "ICE", "--period", "2025-01", "--json"],
                    ["targets", "--json"], ["check", "--json"], ["quality", "--json"],
                    ["project", "--arrests-per-day", "1200", "--days", "60", "--runs", "20", "--json"],
                    ["chart", "daily-vs-target", "--out", "{tmp}/chart.svg"], ["report", "--out", "{tmp}/report.html"]]


def test_reading_commands_run_while_another_process_reads_the_warehouse(tmp_path, monkeypatch):
    """DuckDB lets many processes read a file or one write it: a command that only reads opens it read-only,
    so it runs beside `icetrack serve` (here: another process holding a read-only connection)."""
    monkeypatch.setenv("ICETRACK_LOCK_WAIT", "0")  # a command opened read-write would fail at once, not wait
    path = tmp_path / "wh.duckdb"
    icetrack = Icetrack(path)
    icetrack("editions")  # first use: created and loaded read-write
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], "
                               "read_only=True); print('open', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        before = path.read_bytes()
        for argv in READING_COMMANDS:
            result = icetrack(*[a.format(tmp=tmp_path) for a in argv])
            if "--json" in argv:
                strict_json(result.stdout)
        assert path.read_bytes() == before  # and none of them wrote
        assert (tmp_path / "chart.svg").exists() and (tmp_path / "report.html").exists()
        icetrack("ingest", str(tmp_path / "report.html"), expect=2)  # a writing command still needs the lock
    finally:
        reader.stdin.close()
        reader.wait(timeout=20)


def test_reading_command_on_a_new_or_unloaded_warehouse_makes_its_first_use_write(tmp_path):
    from icetrack.warehouse import open_warehouse

    new = Icetrack(tmp_path / "new.duckdb")
    rows = new.json("series", "book_ins", "--agency", "ICE")  # created, the bundled reference data loaded
    assert [r["value"] for r in rows if r["period_start"] == "2025-01-01" and r["grain"] == "month"] == [11753]
    bare = tmp_path / "bare.duckdb"
    open_warehouse(bare, load_reference=False).close()
    assert len(Icetrack(bare).json("editions")) == len(new.json("editions"))
