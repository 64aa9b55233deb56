"""Finding a table on a sheet by its title: no cell address is fixed, because tables move between rows from
edition to edition and their titles drift. A table spans from its title to the next title on the same row
and down to the first blank row.
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

    @property
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
    """Find a table by its title; it spans to the next title on the same row and down to a blank row."""
    found = grid.find(pattern)
    if found is None:
        return None
    row, col = found
    end_col = next((c for c in range(col + 1, grid.n_cols) if grid.text(row, c)), grid.n_cols)
    header_row = next((r for r in range(row + 1, grid.n_rows) if not grid.row_is_blank(r, col, end_col)), None)
    body = []
    if header_row is not None:
        for r in range(header_row + 1, grid.n_rows):
            if grid.row_is_blank(r, col, end_col):
                break
            body.append(r)
    return Table(grid, grid.text(row, col), row, col, end_col, header_row, body)
