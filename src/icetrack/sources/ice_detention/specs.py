"""What a table reader declares: the table's name, how its title and header are recognised, how it is read,
and the Footnotes topic that dates it. Every sheet's readers list their tables as :class:`TableSpec`; the
sheet each list belongs to is named in :mod:`.catalog`.

A table is found by its title (``pattern``, matched against :func:`.labels.text_key` of the title cell). Its
header (``header``, matched against the text key of the header cells joined by ``" | "``) is then checked:
a title that matches over a header that does not is a table whose layout changed, and the edition is refused
with one line naming the table, unless the user loads with ``--partial`` (then that table is left out and the
edition records it as missing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from icetrack.sources.ice_detention.labels import text_key
from icetrack.sources.ice_detention.tables import Table, register_titles


class TableSpec(NamedTuple):
    name: str  # as printed in ICE's recent workbooks, used in warnings, missing_tables and the drift report
    pattern: re.Pattern[str]
    read: Callable[..., str | None]  # (ParseContext, Table) -> None, or a one-line problem
    snapshot: bool = False  # dated at the as-of date: meaningless for an earlier year's re-posted sheet
    topic: str | None = None  # its date in the Footnotes sheet (footnotes.TOPICS); None: the edition's date
    header: re.Pattern[str] | None = None  # what the header row must hold (None: not checked)


def header_key(table: Table) -> str:
    """The table's header as one matchable string: each non-blank header cell's text key, joined by " | "."""
    return " | ".join(text_key(h) for _, h in table.columns)


def header_problem(spec: TableSpec, table: Table) -> str | None:
    """Why the table's header is not the layout its reader knows (None when it is, or is not checked)."""
    if spec.header is None or spec.header.search(header_key(table)):
        return None
    found = " | ".join(h for _, h in table.columns)[:120] or "(no header row)"
    return f"title matches but the header does not (found '{found}')"


def titles(*specs: TableSpec) -> list[TableSpec]:
    """Register the specs' titles as table boundaries (a table stops at the next known title) and return them."""
    register_titles(*(s.pattern for s in specs))
    return list(specs)
