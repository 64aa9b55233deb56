"""CSV cells that a spreadsheet opens as data, never as a formula: the one rule for every CSV icetrack writes
(the CLI's ``--csv`` and the API's ``format=csv``).

Labels, notes, file names and URLs come from files anyone can write (a targets CSV, a claims file). Excel,
LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some strip a
leading tab or carriage return first) as a formula, so a label ``=HYPERLINK("http://evil","x")`` downloaded
from the dashboard would become a live link or worse. Such text cells get a leading apostrophe, which
spreadsheets show as text (OWASP's "CSV injection" advice). Numbers keep their sign: only text is touched,
and text that is just a number ("-12.5") cannot run anything, so it stays as it is.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell: lists and maps as JSON text, text that a spreadsheet would run prefixed with
    an apostrophe; numbers, dates, booleans and None unchanged (the csv module writes them)."""
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value, default=str)
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(out: IO[str], rows: Iterable[dict[str, Any]], fieldnames: Sequence[str],
              lineterminator: str = "\r\n") -> None:
    """``rows`` (dicts; keys not in ``fieldnames`` are an error, missing ones empty) as CSV on ``out``, every
    cell and header through :func:`csv_cell`."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([csv_cell(f) for f in fieldnames])
    for row in rows:
        extra = row.keys() - set(fieldnames)
        if extra:
            raise ValueError(f"row has fields not in the header: {sorted(extra)}")
        writer.writerow([csv_cell(row.get(f)) for f in fieldnames])
