"""The one way the CLI prints a result: a rich table (the default), ``--json`` or ``--csv``; and the one way it
fails: a single ``icetrack: error: ...`` line on stderr with exit status 2, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from icetrack.figures import csv_cells
from icetrack.domain.json_text import strict_json

console = Console(soft_wrap=True)  # messages are never wrapped mid-word; tables still fit the terminal
err_console = Console(stderr=True)


class UserFacingError(click.ClickException):
    """Printed as one line per problem: 'icetrack: error: ...'; exit status 2."""

    exit_code = 2

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = problems

    def show(self, file=None) -> None:
        for problem in self.problems:
            err_console.print(f"icetrack: error: {problem}", highlight=False, markup=False, soft_wrap=True)


def fail(message: object) -> None:
    """Stop the command with one line on stderr (whitespace folded) and exit status 2."""
    raise UserFacingError(" ".join(str(message).split()))


def say(text: str, **options: Any) -> None:
    """One plain message line: no markup, no highlighting (options: style=...)."""
    console.print(text, highlight=False, markup=False, **options)


def table(columns: Sequence[str], rows: Iterable[Sequence[str]] = (), *, right: Collection[str] = (),
          overflow: str | None = None, **options: Any) -> Table:
    """A rich table with ``columns`` (those in ``right`` right-aligned) and ``rows`` of already formatted cells.
    ``options`` go to ``rich.table.Table`` (title, show_lines...); the edge is not padded unless asked."""
    options.setdefault("pad_edge", False)
    t = Table(**options)
    column_options = {"overflow": overflow} if overflow else {}
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left", **column_options)
    for row in rows:
        t.add_row(*row)
    return t


def write_csv(rows: list[dict], fieldnames: Sequence[str] | None = None) -> None:
    """``rows`` as CSV on stdout; the header is ``fieldnames``, else the first row's keys ('empty' if none).
    Text a spreadsheet would run as a formula is written as text (:mod:`icetrack.figures.csv_cells`)."""
    csv_cells.write_csv(sys.stdout, rows, list(fieldnames or (rows[0] if rows else ["empty"])))


def emit(result: Any, render: Callable[[Any], None], *, as_json: bool = False, as_csv: bool = False,
         csv_rows: list[dict] | None = None, csv_fields: Sequence[str] | None = None) -> None:
    """Print ``result``: as JSON with ``--json``, as CSV rows (``csv_rows``, header ``csv_fields``) with ``--csv``,
    else through ``render`` (rich tables). A result marked synthetic carries a warning above its tables."""
    if as_json:
        click.echo(strict_json(result, indent=2))  # NaN/infinity as null: standard JSON any parser reads
    elif as_csv:
        write_csv(csv_rows or [], csv_fields)
    else:
        if isinstance(result, dict) and result.get("synthetic"):
            console.print("[bold red]SYNTHETIC DATA[/bold red]: these figures come from a generated release, not "
                          "from ICE.")
        render(result)
