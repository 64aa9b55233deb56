"""openpyxl baseline for the ICE detention-workbook reader (speed comparison only, not used by icetrack).

``extract_with_openpyxl(path)`` extracts the same tables as
:func:`icetrack.sources.ice_detention.parse_workbook`: it runs the reader's own table logic (title search,
layouts, vocabularies, the same container checks) on cells read with openpyxl
(``read_only=True, data_only=True``) instead of fastexcel. Only the cell-reading layer differs, so a timing
comparison measures fastexcel against openpyxl and nothing else, and equal observation counts show both
libraries read the same cells.

Run ``uv run python benchmarks/openpyxl_reference.py [FOLDER]`` to time both over a folder of workbooks.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import openpyxl

from icetrack.sources.ice_detention import parse_with, parse_workbook
from icetrack.sources.ice_detention.workbook import Grid


class _OpenpyxlWorkbook:
    """The reader's cell source, backed by openpyxl in read-only, cached-values mode."""

    def __init__(self, path: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self.sheet_names = list(self._book.sheetnames)

    def grid(self, sheet: str) -> Grid:
        rows = list(self._book[sheet].iter_rows(values_only=True))
        width = max((len(row) for row in rows), default=0)
        texts: list[list[Any]] = [[None] * len(rows) for _ in range(width)]
        numbers: list[list[Any]] = [[None] * len(rows) for _ in range(width)]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                texts[c][r], numbers[c][r] = _text_and_number(value)
        return Grid(sheet, texts, numbers)

    def close(self) -> None:
        self._book.close()


def _text_and_number(value: Any) -> tuple[str, float | None]:
    # Mirror fastexcel's two views: the text of any cell, and a float for numbers and numeric text.
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, (int, float)):
        number = float(value)
        return (str(int(number)) if number.is_integer() else repr(number)), number
    text = str(value)
    try:
        number = float(text.strip())
    except ValueError:
        return text, None
    return text, number if math.isfinite(number) else None


def extract_with_openpyxl(path: str | Path) -> int:
    """Number of observations extracted from one workbook, reading cells with openpyxl."""
    opened: list[_OpenpyxlWorkbook] = []

    def open_workbook(p: Path) -> _OpenpyxlWorkbook:
        opened.append(_OpenpyxlWorkbook(p))
        return opened[-1]

    try:
        return parse_with(Path(path), open_workbook).observations.num_rows
    finally:
        for book in opened:
            book.close()


def _time(label: str, files: list[Path], extract) -> tuple[float, int]:
    start = time.perf_counter()
    total = sum(extract(p) for p in files)
    elapsed = time.perf_counter() - start
    print(f"{label:10s} {elapsed:7.3f} s  {total} observations from {len(files)} files")
    return elapsed, total


def main(folder: str) -> None:
    files = sorted(Path(folder).rglob("*.xlsx"))
    parse_workbook(files[0])  # warm-up: first-use imports (pyarrow -> pandas) are not part of either reader
    extract_with_openpyxl(files[0])
    fast, n_fast = _time("fastexcel", files, lambda p: parse_workbook(p).observations.num_rows)
    slow, n_slow = _time("openpyxl", files, extract_with_openpyxl)
    print(f"openpyxl / fastexcel = {slow / fast:.1f}x; same observation count: {n_fast == n_slow}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ice-detention-stats")
