"""The structure of the package (docs/architecture.md), checked by the README's test command.

- the import-linter contracts of pyproject.toml hold (imports only go down the layers, model / claims /
  synth and report / web are independent siblings, no import cycle, only the warehouse imports DuckDB),
  and they do catch a wrong-way import;
- modules stay under 600 lines and functions under 80, table-driven data modules aside;
- only ``icetrack.warehouse`` issues SQL;
- docstrings are documentation, never runtime output (``__doc__`` breaks under ``python -OO``);
- nothing a user reads cites the ``../shared`` folder of the development machine.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PKG = SRC / "icetrack"
WAREHOUSE = PKG / "warehouse"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# Table-driven data modules: exempt from both length limits because they are mostly literal data that a
# reader scans, not logic to follow. Keep this list small; every entry says why.
DATA_MODULES = {
    # The measure catalogue: one MeasureDef literal per stored measure; it grows by one entry per measure.
    "domain/catalogue.py": "measure catalogue, one literal per measure",
    # Versioned definitions shown to users, kept as text constants (not docstrings) so every output can quote them.
    "domain/definitions.py": "definition texts shown to users",
}

SQL_CALLS = {"execute", "executemany", "sql", "raw_sql"}
# A string that starts like an SQL statement (upper-case keywords, as the warehouse writes them).
SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(OR\s+REPLACE\s+)?"
    r"(TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW|INDEX|SCHEMA)\s|DROP\s+(TABLE|VIEW|INDEX|SCHEMA)\s|WITH\s+\w+\s+AS\s*\(|"
    r"COPY\s|ATTACH\s|PRAGMA\s)"
)


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(PKG).as_posix()


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _lint_imports(src_dir: Path) -> subprocess.CompletedProcess:
    """Run import-linter with this checkout's pyproject.toml over the package found in ``src_dir``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src_dir), os.environ.get("PYTHONPATH", "")]))
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src_dir, env=env, capture_output=True, text=True, timeout=600,
    )


# --- layering (import-linter) -------------------------------------------------------------------------------


def test_import_contracts_hold():
    result = _lint_imports(SRC)
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


def test_import_contracts_catch_a_wrong_way_import(tmp_path):
    """The contracts are not vacuous: an upward import, a sibling import and a direct DuckDB import fail."""
    copy = tmp_path / "icetrack"
    shutil.copytree(PKG, copy, ignore=lambda d, names: [n for n in names
                                                        if n == "__pycache__" or (Path(d, n).is_file() and not n.endswith(".py"))])
    with open(copy / "domain" / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\nimport icetrack.figures  # wrong way: domain imports nothing of icetrack\n")
    with open(copy / "model" / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\nimport icetrack.claims  # wrong way: model and claims are independent siblings\n")
    with open(copy / "metrics" / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\nimport duckdb  # wrong way: only the warehouse talks to DuckDB\n")
    result = _lint_imports(tmp_path)
    out = result.stdout
    assert result.returncode != 0, out
    assert "icetrack.domain is not allowed to import icetrack.figures" in out, out
    assert "icetrack.model is not allowed to import icetrack.claims" in out, out
    assert "icetrack.metrics is not allowed to import duckdb" in out, out


# --- size ---------------------------------------------------------------------------------------------------


def test_data_module_allowlist_is_small_and_real():
    assert len(DATA_MODULES) <= 4, "the allowlist is for table-driven data modules only"
    for rel, why in DATA_MODULES.items():
        assert (PKG / rel).is_file(), f"allowlisted module {rel} does not exist: remove the entry"
        assert why.strip(), f"allowlisted module {rel} must say why"


def test_modules_are_short():
    long = [f"{_rel(p)}: {n} lines" for p in _modules() if _rel(p) not in DATA_MODULES
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(long)


def test_functions_are_short():
    long = []
    for path in _modules():
        if _rel(path) in DATA_MODULES:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1  # from `def` to the last line; decorators not counted
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{_rel(path)}:{node.lineno} {node.name}(): {n} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them):\n" + "\n".join(long)


# --- SQL only in the warehouse ------------------------------------------------------------------------------


def test_no_sql_outside_the_warehouse():
    """No `con.execute("...")`, `.sql(...)` or SQL text outside icetrack.warehouse. (An Ibis expression's
    own `.execute()` takes no positional argument and is allowed.)"""
    found = []
    for path in _modules():
        if WAREHOUSE in path.parents:
            continue
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS
                    and (node.args or any(k.arg in ("query", "sql", "statement") for k in node.keywords))):
                found.append(f"{_rel(path)}:{node.lineno} .{node.func.attr}(...)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
                found.append(f"{_rel(path)}:{node.lineno} SQL text {node.value.strip()[:40]!r}")
    assert not found, "SQL outside icetrack.warehouse (add a warehouse method instead):\n" + "\n".join(found)


# --- docstrings are not output ------------------------------------------------------------------------------


def test_docstrings_are_not_runtime_output():
    """Texts shown to users live as data (icetrack.domain.definitions); `__doc__` is None under -OO."""
    found = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr == "__doc__":
                found.append(f"{_rel(path)}:{node.lineno} .__doc__")
            elif isinstance(node, ast.Name) and node.id == "__doc__":
                found.append(f"{_rel(path)}:{node.lineno} __doc__")
            elif isinstance(node, ast.Attribute) and node.attr == "getdoc":
                found.append(f"{_rel(path)}:{node.lineno} inspect.getdoc")
    assert not found, "docstrings used as runtime output:\n" + "\n".join(found)


# --- no ../shared -------------------------------------------------------------------------------------------


def _user_facing_files() -> list[Path]:
    files = [p for p in PKG.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in (ROOT / "docs").rglob("*") if p.is_file()]
    files.append(ROOT / "README.md")
    return sorted(files)


@pytest.mark.parametrize("needle", [b"../shared", b"..\\shared"])
def test_nothing_cites_the_development_shared_folder(needle):
    """Users do not have ../shared: code, bundled data, docs and the README must not point there."""
    found = []
    for path in _user_facing_files():
        for i, line in enumerate(path.read_bytes().splitlines(), 1):
            if needle in line:
                found.append(f"{path.relative_to(ROOT).as_posix()}:{i}")
    assert not found, f"{needle.decode()} cited in:\n" + "\n".join(found)
