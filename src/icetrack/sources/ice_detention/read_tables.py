"""Reading the known tables of one sheet: locate each by its title, check its header, read it, and record its
layout (for the format-drift report) and what became of it (missing, published twice).

A table that is absent is not an error (ICE adds and drops tables between years): a Detention-sheet table is
reported missing, a table of another sheet is simply absent from the edition's layout. A table whose title is
found but whose header or body is not a layout its reader knows refuses the edition in one line naming the
table and the file, unless the policy is ``partial`` (``--partial``): then that table is left out, reported
missing, and the rest of the edition loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from icetrack.domain.edition import SourceError
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.specs import TableSpec, header_problem
from icetrack.sources.ice_detention.tables import Table, locate_tables
from icetrack.sources.ice_detention.workbook import Grid


@dataclass
class TableReport:
    """What became of each known table: not found or unreadable (missing), published twice (flagged), and the
    layout of every table found (title, header, whether its figures carry decimals) by table name."""

    missing: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)  # names of the tables read
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[tuple] = field(default_factory=set)  # observation keys emitted so far (one value per key)


def read_sheet_tables(ctx: ParseContext, grid: Grid, specs: list[TableSpec], report: TableReport, *,
                      stale_snapshot: str | None = None, expected: frozenset[str] = frozenset()) -> None:
    """Read every table of ``specs`` found on ``grid`` into ``ctx``; record each in ``report``. A table named in
    ``expected`` (the national tables every edition since FY2019 has) that is absent is reported missing; any
    other absent table is one the edition's year does not publish."""
    for spec in specs:
        found = locate_tables(grid, spec.pattern)
        if not found:
            if spec.name in expected:
                report.missing.append(spec.name)
                ctx.warnings.append(f"table not found on sheet '{grid.sheet.strip()}': {spec.name}")
            continue
        report.layout[spec.name] = table_layout(found[0])
        if spec.snapshot and stale_snapshot:
            report.missing.append(spec.name)
            ctx.warnings.append(f"{found[0].where}: not read: a snapshot of an earlier year ({stale_snapshot})")
            continue
        _read_one(ctx, spec, found, report)


def table_layout(table: Table) -> dict[str, Any]:
    """What the drift report compares between editions: the sheet, the title as printed, the header cells, and
    whether any figure has decimals (averages rounded to whole numbers show as a change)."""
    numbers = [table.grid.number(r, c) for r in table.body for c in range(table.first_col + 1, table.end_col)]
    numbers = [n for n in numbers if n is not None]
    return {"sheet": table.grid.sheet.strip(), "title": table.title, "header": [h for _, h in table.columns],
            "decimals": any(n != int(n) for n in numbers), "rows": len(table.body)}


def sheet_layout(grid: Grid) -> dict[str, Any]:
    """The layout of a list sheet (Facilities): its name and the header row holding 'Name' and 'AOR'."""
    for row in range(min(grid.n_rows, 40)):
        keys = [grid.key(row, c) for c in range(grid.n_cols)]
        if "name" in keys and "aor" in keys:
            return {"sheet": grid.sheet.strip(), "title": "", "rows": grid.n_rows - row - 1,
                    "header": [grid.text(row, c) for c in range(grid.n_cols) if grid.text(row, c)], "decimals": None}
    return {"sheet": grid.sheet.strip(), "title": "", "header": [], "decimals": None, "rows": 0}


def _read_one(ctx: ParseContext, spec: TableSpec, found: list[Table], report: TableReport) -> None:
    table, repeats = found[0], found[1:]
    before = len(ctx.rows)
    problem = header_problem(spec, table)
    if problem is None:
        with ctx.dated(spec.topic):
            problem = spec.read(ctx, table)
    if problem is None and len(ctx.rows) == before:
        problem = "no readable values (layout not recognised)"
    if problem:
        del ctx.rows[before:]  # a table read in part would pass for complete
        if not ctx.policy.partial:
            raise SourceError(ctx.path, f"table '{spec.name}': {problem}; nothing from this file was loaded "
                                        "(load the rest of it with --partial)", where=table.where)
        report.missing.append(spec.name)
        ctx.warnings.append(f"{table.where}: {problem}; table not read (--partial)")
        return
    report.read.append(spec.name)
    report.layout[spec.name]["prefilled"] = ctx.future_values.get(table.where, 0)
    kept, dropped = [], 0
    for row in ctx.rows[before:]:
        key = (row["measure"], row["grain"], row["period_start"], row["period_end"],
               tuple(sorted(row["dims"].items())))
        if key in report.seen:
            dropped += 1
        else:
            report.seen.add(key)
            kept.append(row)
    ctx.rows[before:] = kept
    if repeats or dropped:
        where = ", ".join(f"row {t.title_row + 1}" for t in repeats) or f"{dropped} repeated values"
        report.flagged.append(f"{spec.name} (published twice: {where})")
        ctx.warnings.append(f"{table.where}: published twice ({where}); the first copy is kept")
