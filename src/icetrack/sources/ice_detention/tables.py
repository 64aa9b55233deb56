"""Finding a table on a sheet by its title: no cell address is fixed, because tables move between rows from
edition to edition and their titles drift. A table spans from its title to the next title on the same row
(or a blank column, for a table whose neighbour's title sits on another row) and down to the first blank
row or the next known title. A title printed twice on one sheet is a table published twice: every copy is
located, and the reader keeps the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from icetrack.sources.ice_detention.labels import is_fy_total, month_of
from icetrack.sources.ice_detention.workbook import Grid

# --- title patterns (matched against text_key(title): lower case, punctuation -> space) -------------------

TITLE_CURRENTLY_DETAINED = re.compile(r"^ice currently detained by criminality and arresting agency\b")
TITLE_DISPOSITION = re.compile(r"^ice currently detained by processing disposition\b")
TITLE_BOOK_INS = re.compile(r"^ice initial book ins by arresting agency and month\b")
# FY24/early-FY25 editions title it "...Book-Ins by Criminality" but still lay it out by facility type.
TITLE_BOOK_INS_BY_FACILITY = re.compile(r"^ice initial book ins by (?:facility type and )?criminality\b")
TITLE_BOOK_OUTS = re.compile(r"^ice final (?:book outs|releases) by release reason\b")
# "ICE Final Book Outs by Facility Type: FY2025", "ICE Final Book Outs : FY2025", "ICE Final Releases: FY2024"
TITLE_BOOK_OUTS_BY_FACILITY = re.compile(
    r"^ice final (?:book outs|releases)(?: by facility type)?(?: (?:eo)?fy ?\d.*)?$")
TITLE_REMOVALS = re.compile(r"^ice removals\b")
TITLE_ADP = re.compile(r"^ice average daily population by arresting agency\b")
TITLE_ALOS = re.compile(r"^ice average length of stay by arresting agency\b")
TITLE_ADP_BY_FACILITY = re.compile(r"^ice average daily population by (?:facility type and )?month\b")
TITLE_ALOS_BY_FACILITY = re.compile(r"^ice average length of stay by (?:facility type and )?month\b")

ALL_TITLES = (TITLE_CURRENTLY_DETAINED, TITLE_DISPOSITION, TITLE_BOOK_INS, TITLE_BOOK_INS_BY_FACILITY,
              TITLE_BOOK_OUTS, TITLE_BOOK_OUTS_BY_FACILITY, TITLE_REMOVALS, TITLE_ADP, TITLE_ALOS,
              TITLE_ADP_BY_FACILITY, TITLE_ALOS_BY_FACILITY)

REQUIRED_TABLES = {
    "ICE Currently Detained by Criminality and Arresting Agency": TITLE_CURRENTLY_DETAINED,
    "ICE Initial Book-Ins by Arresting Agency and Month": TITLE_BOOK_INS,
    "ICE Removals: FYxx": TITLE_REMOVALS,
}


@dataclass
class Table:
    grid: Grid
    title: str
    title_row: int
    first_col: int
    end_col: int
    header_row: int | None
    body: list[int]

    @cached_property
    def where(self) -> str:
        return f"{self.grid.sheet.strip()} / {self.title}"

    def label(self, row: int) -> str:
        """The row's label: the text in the table's first column."""
        return self.grid.text(row, self.first_col)

    @cached_property
    def columns(self) -> list[tuple[int, str]]:
        """(column, header text) for the non-blank header cells right of the label column."""
        if self.header_row is None:
            return []
        return [(c, self.grid.text(self.header_row, c)) for c in range(self.first_col + 1, self.end_col)
                if self.grid.text(self.header_row, c)]

    @cached_property
    def period_columns(self) -> list[tuple[int, int | None, bool]]:
        """(column, month number or None, whether it is the fiscal-year total column)."""
        return [(c, month_of(h), is_fy_total(h)) for c, h in self.columns]


def locate_table(grid: Grid, pattern: re.Pattern[str]) -> Table | None:
    """The first table whose title matches (None when there is none)."""
    found = grid.find(pattern)
    return None if found is None else _table_at(grid, *found)


def locate_tables(grid: Grid, pattern: re.Pattern[str]) -> list[Table]:
    """Every table whose title matches, in reading order (row by row): more than one is a table published
    twice."""
    return [_table_at(grid, row, col) for row, col, key in grid.title_cells() if pattern.search(key)]


# Every known title of every sheet: a table's body stops at the next one. Sheet readers add theirs on import
# (:func:`.specs.titles`).
KNOWN_TITLES: list[re.Pattern[str]] = list(ALL_TITLES)


def register_titles(*patterns: re.Pattern[str]) -> None:
    KNOWN_TITLES.extend(p for p in patterns if p not in KNOWN_TITLES)


def _is_title(grid: Grid, row: int, col: int) -> bool:
    key = grid.key(row, col)
    return len(key) >= 12 and _any_title().search(key) is not None


_COMBINED: list[tuple[int, re.Pattern[str]]] = []


def _any_title() -> re.Pattern[str]:
    """One pattern matching any known title (rebuilt when a reader registers more): every row of every table
    body is tested against it, one search instead of one per title."""
    if not _COMBINED or _COMBINED[0][0] != len(KNOWN_TITLES):
        combined = re.compile("|".join(f"(?:{p.pattern})" for p in KNOWN_TITLES))
        _COMBINED[:] = [(len(KNOWN_TITLES), combined)]
    return _COMBINED[0][1]


def _table_at(grid: Grid, row: int, col: int) -> Table:
    end_col = next((c for c in range(col + 1, grid.n_cols) if grid.text(row, c)), grid.n_cols)
    header_row, body = _rows_of(grid, row, col, end_col)
    # A neighbour whose title sits on another row is not cut off by the title row: end the span at the
    # first blank column after the table's first figures (a blank right after the label column may be a
    # merged label cell).
    rows = ([header_row] if header_row is not None else []) + body
    seen_data = False
    for c in range(col + 1, end_col):
        if any(grid.text(r, c) for r in rows):
            seen_data = True
        elif seen_data:
            end_col = c
            header_row, body = _rows_of(grid, row, col, end_col)
            break
    return Table(grid, grid.text(row, col), row, col, end_col, header_row, body)


def _rows_of(grid: Grid, title_row: int, col: int, end_col: int) -> tuple[int | None, list[int]]:
    """Header row and body rows below a title: down to a blank row or the next known title (two tables
    stacked without a blank row between them stay two tables)."""
    header_row = next((r for r in range(title_row + 1, grid.n_rows) if not grid.row_is_blank(r, col, end_col)),
                      None)
    body = []
    if header_row is not None:
        for r in range(header_row + 1, grid.n_rows):
            if grid.row_is_blank(r, col, end_col) or _is_title(grid, r, col):
                break
            body.append(r)
    return header_row, body
