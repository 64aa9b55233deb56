"""The observations of one edition as they are read: periods (snapshot, fiscal year to date, month), the
"partial month" note, months starting after the as-of date (not emitted), and warnings for unknown labels.
"""

from __future__ import annotations

import math
import re
from calendar import monthrange
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from icetrack.domain import rules
from icetrack.domain.edition import SourceError
from icetrack.domain.catalogue import value_problem_for
from icetrack.domain.plausible import DEFAULT_POLICY, IngestPolicy
from icetrack.sources.ice_detention.labels import CRIMINALITY_BY_KEY, REASON_BY_KEY, norm_text, text_key
from icetrack.sources.ice_detention.tables import Table
from icetrack.sources.ice_detention.workbook import Grid, cell_ref


@dataclass
class ParseContext:
    path: Path
    fiscal_year: int
    as_of: date
    source_url: str
    warnings: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    future_values: dict[str, int] = field(default_factory=dict)  # table -> non-zero cells after as-of
    policy: IngestPolicy = DEFAULT_POLICY
    overrides: list[str] = field(default_factory=list)  # what --allow-implausible let in, one line each
    # The date each table topic states (footnotes.TOPICS -> date); a table without one keeps ``as_of``.
    table_dates: dict[str, date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fy_start = date(self.fiscal_year - 1, 10, 1)
        self.edition_as_of = self.as_of
        self.month_periods = {}
        for month in range(1, 13):
            year = self.fiscal_year - 1 if month >= 10 else self.fiscal_year
            self.month_periods[month] = (date(year, month, 1), date(year, month, monthrange(year, month)[1]))

    @property
    def fytd_end(self) -> date:
        # Year-end editions are pulled after 30 Sep, but their figures still end with the fiscal year.
        return min(self.as_of, date(self.fiscal_year, 9, 30))

    @contextmanager
    def dated(self, topic: str | None):
        """Read one table as of the date the workbook states for it (its footnote), else the edition's date."""
        self.as_of = self.table_dates.get(topic, self.edition_as_of) if topic else self.edition_as_of
        try:
            yield self
        finally:
            self.as_of = self.edition_as_of

    def implausible(self, where: str, problem: str) -> None:
        """Refuse the file for a value or date no publication can hold, unless the policy lets it in (then the
        edition records it)."""
        if not self.policy.allow_implausible:
            raise SourceError(self.path, f"{problem} (load it anyway with --allow-implausible)", where=where)
        self.overrides.append(f"{where}: {problem}")  # said by the ingest and recorded on the edition

    def add(self, measure: str, grain: str, start: date, end: date, dims: dict[str, str], value: float,
            unit: str, note: str | None = None) -> None:
        self.rows.append({"measure": measure, "period_start": start, "period_end": end, "grain": grain,
                          "dims": dims, "value": value, "unit": unit, "source_url": self.source_url,
                          "note": note})

    def add_snapshot(self, measure: str, dims: dict[str, str], value: float, unit: str) -> None:
        self.add(measure, "snapshot", self.as_of, self.as_of, dims, value, unit)

    def add_fytd(self, measure: str, dims: dict[str, str], value: float, unit: str, note: str | None = None) -> None:
        self.add(measure, "fytd", self.fy_start, self.fytd_end, dims, value, unit, note)

    def add_month(self, measure: str, month: int, dims: dict[str, str], value: float, unit: str,
                  note: str | None = None, where: str = "") -> None:
        """One month of the edition's fiscal year (1-12)."""
        self.add_month_starting(measure, self.month_periods[month][0], dims, value, unit, note=note, where=where)

    def add_month_starting(self, measure: str, start: date, dims: dict[str, str], value: float, unit: str,
                           note: str | None = None, where: str = "") -> None:
        """The month starting ``start``, of any fiscal year (bond columns, parole rows of past years)."""
        end = date(start.year, start.month, monthrange(start.year, start.month)[1])
        if start > self.as_of:
            # ICE pre-fills the months still to come with 0; that is not a reported zero. A few editions
            # hold real counts for the first days after the Facilities as-of date (their Detention tables
            # were pulled a few days later); those are dropped too, and counted for one warning per table.
            if value != 0:
                self.future_values[where] = self.future_values.get(where, 0) + 1
            return
        if rules.is_partial(end, self.as_of):
            note = "; ".join(filter(None, [note, f"partial month: data as of {self.as_of}"]))
        self.add(measure, "month", start, end, dims, value, unit, note)

    def warn_unknown(self, table: Table, what: str, label: str) -> None:
        self.warnings.append(f"{table.where}: unrecognised {what} '{label}' kept as printed")


# Cell texts ICE prints where it has no figure; anything else that is not a number is refused.
NO_FIGURE_TEXTS = frozenset({"-", "--", "—", "–"})


def cell_value(ctx: ParseContext, grid: Grid, where: str, row: int, col: int, measure: str, unit: str, *,
               text_refused: bool = True) -> float | None:
    """The figure in one cell: None for a blank, else a number within the plausible range of ``unit``.

    A count cell holding text ('N/A'), an infinity (1E+400) or an impossible count (negative, above a billion)
    is refused with the cell named: dropping it silently would turn a misprint into a missing figure. In the
    facility list (``text_refused=False``) a note typed into a figure cell ('Scheduled', seen in ICE's FY2025
    files) skips that one cell with a warning naming it instead of refusing the edition."""
    value = grid.raw_number(row, col)
    if value is None:
        text = grid.text(row, col)
        if not text or text in NO_FIGURE_TEXTS:
            return None
        problem = f"cell {cell_ref(row, col)} holds '{text[:40]}' where a number is expected"
        if text_refused:
            ctx.implausible(where, problem)
        else:
            ctx.warnings.append(f"{where}: {problem}; that cell is not read")
        return None
    problem = value_problem_for(measure, value, unit)
    if problem is None:
        return value
    ctx.implausible(where, f"cell {cell_ref(row, col)}: {problem}")
    return value if math.isfinite(value) else None


def emit_series(ctx: ParseContext, table: Table, row: int, measure: str, unit: str, dims: dict[str, str], *,
                 fy_total_column: bool, note: str | None = None) -> None:
    """Emit the month columns of one row (and its FY-total column when that is not just a sum)."""
    for col, month, is_fy_total in table.period_columns:
        if month is None and not (fy_total_column and is_fy_total):
            continue  # a label or sum column: not a figure this row publishes
        value = cell_value(ctx, table.grid, table.where, row, col, measure, unit)
        if value is None:
            continue
        if month is not None:
            ctx.add_month(measure, month, dims, value, unit, note=note, where=table.where)
        else:
            ctx.add_fytd(measure, dims, value, unit, note=note)


def require_values(ctx: ParseContext, table: Table, before: int) -> None:
    if len(ctx.rows) == before:
        raise SourceError(ctx.path, "required table has no readable values (layout not recognised)",
                          where=table.where)


def criminality_of(ctx: ParseContext, table: Table, label: str) -> str:
    canonical = CRIMINALITY_BY_KEY.get(text_key(label))
    if canonical is None:
        ctx.warn_unknown(table, "criminality", label)
        return norm_text(label)
    return canonical


def release_reason_of(ctx: ParseContext, table: Table, label: str) -> str:
    text = norm_text(label)
    if text_key(text) != "total":
        text = re.sub(r"\s+total$", "", text, flags=re.IGNORECASE)
    canonical = REASON_BY_KEY.get(text_key(text))
    if canonical is None:
        ctx.warn_unknown(table, "release reason", text)
        return text
    return canonical
