"""The CLI package: every command registered, the one output helper, one-line errors with exit status 2."""
from __future__ import annotations

import importlib
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

COMMANDS = {"ingest", "fetch", "rebuild-bundle", "editions", "series", "revisions", "targets", "chart", "report",
            "quality", "check", "project", "outcomes", "synth", "serve"}
OUTCOMES = {"funnel", "km", "cif", "flows", "workbook"}
GROUP_MODULES = ["ingest", "series", "targets", "quality", "claims", "capacity", "outcomes", "synth", "serve"]


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
