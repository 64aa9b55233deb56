"""Format drift: what changed in a workbook's layout from one edition to the next.

Each workbook edition records its layout when it is read (``EditionInfo.layout``): the file-name pattern
(dates replaced by ``<date>``), the sheet names, and for every table found its sheet, title, header cells,
whether its figures carry decimals and how many months after the table's date hold figures ("pre-filled").
Two consecutive editions' layouts are compared after the fiscal year is taken out of every name (``FY2025``,
``FY25`` and ``EOFY24`` all read ``FY``), so the yearly roll-over of titles and sheet names is not a change
while a real rename is.

Kinds of change (one line each, said by ``icetrack ingest`` and listed by ``icetrack editions --changes``):
``file_name`` (naming pattern, e.g. an underscore before the date), ``sheet_added`` / ``sheet_removed`` /
``sheet_renamed``, ``table_added`` / ``table_removed``, ``title_changed``, ``column_added`` /
``column_removed`` / ``column_renamed`` (a table's or the Facilities sheet's header), ``rounded`` (averages
that had decimals printed as whole numbers) and ``decimals_restored``, ``prefilled`` (a month after the
table's date holds figures).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

WORKBOOK_KEY = "(workbook)"
# FY2025, FY25, FY 2025, EOFY2024, EOYFY20, "FY2018 - FY2025", "FY2018 - YTD2022": the fiscal year is not
# part of a layout.
_FISCAL_YEAR = re.compile(r"\b(?:EOY?)?FY ?(?:\d{4}|\d{2})(?:\s*-\s*(?:(?:EOY?)?FY ?|YTD ?)?(?:\d{4}|\d{2}))?(?!\d)",
                          re.IGNORECASE)
_YEAR_STATUS = re.compile(r"\b(?:YTD|EOY)\b", re.IGNORECASE)  # year to date / end of year: not a layout
# What a title says about its own period ("as of 04/04/2026", "thru March", "Year End", "02/02/2026"): it
# moves with every edition and is not a layout.
_TITLE_PERIOD = re.compile(
    r"\b(?:as of|thru|through)\s+(?:\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|[a-z]+)|\byear end\b|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}",
    re.IGNORECASE)
# Month headers printed as dates (the bond table's '2025-09-01 00:00:00' columns) roll with every edition.
_DATE_HEADER = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")
_NOT_A_NAME = frozenset({"fy", "ytd", "eofy", "by", "and", "of", "the"})


@dataclass(frozen=True)
class LayoutChange:
    kind: str
    table: str  # the table or sheet it concerns ("(workbook)" for file names and sheet lists)
    before: str
    after: str

    def line(self) -> str:
        what = {"file_name": "file name pattern", "sheet_added": "sheet added", "sheet_removed": "sheet removed",
                "sheet_renamed": "sheet renamed", "table_added": "table added", "table_removed": "table removed",
                "title_changed": "title changed", "column_added": "column added",
                "column_removed": "column removed", "column_renamed": "column renamed",
                "rounded": "averages rounded to whole numbers", "decimals_restored": "averages have decimals again",
                "prefilled": "months after the table's date pre-filled"}[self.kind]
        where = "" if self.table == WORKBOOK_KEY else f"{self.table}: "
        if self.kind in ("rounded", "decimals_restored", "prefilled"):
            return f"{where}{what} ({self.after})"
        if self.before and self.after:
            return f"{where}{what}: '{self.before}' -> '{self.after}'"
        return f"{where}{what}: '{self.after or self.before}'"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def without_year(text: str, *, keep_mark: bool = True) -> str:
    """A name or title with its fiscal year (and YTD / end-of-year status) taken out, trailing punctuation
    and spacing normalised: 'Detention FY21 YTD' and 'Detention FY22' both read 'Detention FY'. Titles drop
    the mark too (``keep_mark=False``): whether a title names its year is not a layout change."""
    text = _YEAR_STATUS.sub("", _FISCAL_YEAR.sub("FY" if keep_mark else "", text or ""))
    text = _DATE_HEADER.sub("<date>", text)
    if not keep_mark:
        text = _TITLE_PERIOD.sub("", text)
        text = re.sub(r"(?:\s*,)+", ",", text)  # "Program, FY26, as of 04/04/2026, by" -> "Program, by"
    return _SPACES.sub(" ", text).strip(" :;,.-")


def _similarity(a: str, b: str) -> float:
    """Share of words two names have in common (0..1): at 0.5 or more, a rename rather than one item removed
    and another added."""
    wa = set(_WORD.findall(a.lower())) - _NOT_A_NAME
    wb = set(_WORD.findall(b.lower())) - _NOT_A_NAME
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def layout_changes(before: dict[str, Any], after: dict[str, Any]) -> list[LayoutChange]:
    """Every change from layout ``before`` to layout ``after`` (editions' ``layout`` dicts), in a stable order:
    the workbook first, then tables by name."""
    changes = _workbook_changes(before.get(WORKBOOK_KEY) or {}, after.get(WORKBOOK_KEY) or {})
    tables_before = {k: v for k, v in before.items() if k != WORKBOOK_KEY}
    tables_after = {k: v for k, v in after.items() if k != WORKBOOK_KEY}
    for name in sorted(tables_before.keys() | tables_after.keys()):
        old, new = tables_before.get(name), tables_after.get(name)
        if old is None:
            changes.append(LayoutChange("table_added", name, "", f"{new['sheet']}: {new['title']}".rstrip(": ")))
        elif new is None:
            changes.append(LayoutChange("table_removed", name, f"{old['sheet']}: {old['title']}".rstrip(": "), ""))
        else:
            changes.extend(_table_changes(name, old, new))
    return changes


def _workbook_changes(old: dict[str, Any], new: dict[str, Any]) -> list[LayoutChange]:
    changes = []
    if old.get("file_name") and new.get("file_name"):
        a, b = without_year(old["file_name"]), without_year(new["file_name"])
        if a != b:
            changes.append(LayoutChange("file_name", WORKBOOK_KEY, a, b))
    changes.extend(_list_changes("sheet", WORKBOOK_KEY, old.get("sheets") or [], new.get("sheets") or []))
    return changes


def _table_changes(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[LayoutChange]:
    changes = []
    if without_year(old.get("title", ""), keep_mark=False) != without_year(new.get("title", ""), keep_mark=False):
        changes.append(LayoutChange("title_changed", name, old["title"], new["title"]))
    changes.extend(_list_changes("column", name, old.get("header") or [], new.get("header") or []))
    if old.get("decimals") is True and new.get("decimals") is False:
        changes.append(LayoutChange("rounded", name, "", "figures that had decimals are whole numbers"))
    elif old.get("decimals") is False and new.get("decimals") is True:
        changes.append(LayoutChange("decimals_restored", name, "", "figures have decimals"))
    if not old.get("prefilled") and new.get("prefilled"):
        changes.append(LayoutChange("prefilled", name, "", f"{new['prefilled']} figures in months after its date"))
    return changes


def _list_changes(kind: str, table: str, old: list[str], new: list[str]) -> list[LayoutChange]:
    """Items added and removed between two lists (names compared without their fiscal year); a removed item
    and an added one sharing most of their words is a rename."""
    a = [without_year(x) for x in old]
    b = [without_year(x) for x in new]
    removed = [x for x in a if x not in b]
    added = [x for x in b if x not in a]
    changes = []
    # Pair the most similar first, so 'Last Inspection Date' finds 'Last Nakamoto Inspection Date' before a
    # weaker match takes it.
    pairs = sorted(((_similarity(x, y), i, j) for i, x in enumerate(removed) for j, y in enumerate(added)),
                   key=lambda t: (-t[0], t[1], t[2]))
    paired_removed, paired_added = set(), set()
    for score, i, j in pairs:
        if score >= 0.5 and i not in paired_removed and j not in paired_added:
            paired_removed.add(i)
            paired_added.add(j)
            changes.append(LayoutChange(f"{kind}_renamed", table, removed[i], added[j]))
    gone = [x for i, x in enumerate(removed) if i not in paired_removed]
    new = [x for j, x in enumerate(added) if j not in paired_added]
    # Items added or removed together are one change (one line): a layout gaining twelve month columns.
    if gone:
        changes.append(LayoutChange(f"{kind}_removed", table, "', '".join(gone), ""))
    if new:
        changes.append(LayoutChange(f"{kind}_added", table, "", "', '".join(new)))
    return changes
