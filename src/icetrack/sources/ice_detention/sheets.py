"""Which sheets of a detention-statistics workbook are read: every sheet name classified by role and fiscal
year, and the Detention and Facilities sheets of the edition's own fiscal year chosen.

ICE re-posts sheets of other years in some editions: a ``Detention EOFY2020`` sheet placed before
``Detention FY26`` (taking the first ``Detention`` sheet would report FY2020's year-end population as
today's), ``ATD EOFY23`` beside ``ATD FY24 YTD``. The rules:

* role from the name's first word: ``Detention``, ``Facilities``, ``ATD``, ``Footnotes``, ``Header``; else
  from a phrase in it: ``ICLOS`` (iclos), ``Bond Statistics`` (bonds), ``Semiannual``, ``Vulnerable``,
  ``Segregation`` (``FY26 Monthly Segregation``), ``Trans. Detainee`` (transfers); anything else is ``other``.
* every other role's sheet (ATD, ICLOS, ...) is chosen like the Facilities sheet (:func:`choose_sheet`).
* fiscal year from ``FY26``, ``FY2026``, ``EOFY2020``, ``EOFY23``, ``EOYFY20``, ``FY24 YTD`` (None when the
  name has none); ``end_of_year`` when it is an ``EO(Y)FY`` year-end sheet.
* the edition's Detention sheet is the first one of the latest fiscal year named among the Detention
  sheets (a sheet without a year only when no sheet has one). Its book-ins table may then say the year is
  another (:func:`.edition.fiscal_year_of`): the content wins, as for a file name.
* every other Detention sheet is skipped with a warning: it is another year's re-post (or a second copy),
  and reading it as the current year would date its figures in the wrong year.
* the Facilities sheet is the first whose year is the edition's (or the chosen Detention sheet's name year,
  which a mislabelled edition shares), else the first without a year; a Facilities sheet of another year is
  skipped, since its per-facility figures belong to that year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icetrack.sources.ice_detention.labels import text_key

ROLES = ("detention", "facilities", "atd", "footnotes", "header", "iclos", "bonds", "semiannual", "vulnerable",
         "segregation", "transfers", "other")
_ROLE_BY_FIRST_WORD = {"detention": "detention", "facilities": "facilities", "facility": "facilities",
                       "atd": "atd", "footnotes": "footnotes", "footnote": "footnotes", "header": "header"}
# Sheets whose role is a phrase anywhere in the name (``FY26 Monthly Segregation``, `` ICLOS and Detainees``).
_ROLE_BY_PHRASE = (("iclos", "iclos"), ("bond statistics", "bonds"), ("semiannual", "semiannual"),
                   ("vulnerable", "vulnerable"), ("segregation", "segregation"), ("trans detainee", "transfers"))
# "EOFY2020", "EOYFY20", "FY24", "FY 2025", "FY21YTD": the year is two or four digits after FY.
_SHEET_FY = re.compile(r"(?<![a-z])(eoy?)?fy ?(\d{4}|\d{2})(?!\d)")


@dataclass(frozen=True)
class SheetInfo:
    name: str  # as in the workbook (leading/trailing spaces kept: it is the key fastexcel reads by)
    role: str
    fiscal_year: int | None
    end_of_year: bool

    @property
    def label(self) -> str:
        return self.name.strip()


def classify_sheet(name: str) -> SheetInfo:
    key = text_key(name)
    first = key.split(" ", 1)[0] if key else ""
    role = _ROLE_BY_FIRST_WORD.get(first) or next((r for phrase, r in _ROLE_BY_PHRASE if phrase in key), "other")
    match = _SHEET_FY.search(key)
    if match is None:
        return SheetInfo(name, role, None, False)
    year = int(match.group(2))
    return SheetInfo(name, role, year + 2000 if year < 100 else year, bool(match.group(1)))


@dataclass
class SheetChoice:
    """The sheets read for one edition, and those skipped with the reason (one line each)."""

    detention: SheetInfo
    facilities: SheetInfo | None
    skipped: list[tuple[str, str]]  # (sheet name, reason)
    others: dict[str, SheetInfo] = field(default_factory=dict)  # role -> the sheet read for it (ATD, ICLOS, ...)

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(s.label for s in (self.detention, self.facilities, *self.others.values()) if s is not None)


def choose_detention(sheets: list[SheetInfo]) -> SheetInfo | None:
    """The first Detention sheet of the latest fiscal year named (None when the workbook has none)."""
    detention = [s for s in sheets if s.role == "detention"]
    dated = [s for s in detention if s.fiscal_year is not None]
    if not dated:
        return detention[0] if detention else None
    latest = max(s.fiscal_year for s in dated)
    return next(s for s in dated if s.fiscal_year == latest)


def finish_choice(sheets: list[SheetInfo], detention: SheetInfo, fiscal_year: int,
                  other_roles: tuple[str, ...] = ()) -> SheetChoice:
    """Given the edition's fiscal year (known once the chosen sheet's book-ins table is read), pick the
    Facilities sheet and give each other Detention or Facilities sheet its reason for being skipped."""
    skipped = [(s.name, _skip_reason(s, fiscal_year)) for s in sheets
               if s.role == "detention" and s is not detention]
    years = {fiscal_year, detention.fiscal_year}
    facilities_sheets = [s for s in sheets if s.role == "facilities"]
    facilities = (next((s for s in facilities_sheets if s.fiscal_year in years), None)
                  or next((s for s in facilities_sheets if s.fiscal_year is None), None))
    skipped += [(s.name, _skip_reason(s, fiscal_year)) for s in facilities_sheets if s is not facilities]
    others = {role: sheet for role in other_roles if (sheet := choose_sheet(sheets, role, years)) is not None}
    return SheetChoice(detention, facilities, skipped, others)


def choose_sheet(sheets: list[SheetInfo], role: str, years: set[int | None]) -> SheetInfo | None:
    """The first sheet of ``role`` whose fiscal year is one of ``years``, else the first naming no year (None
    when there is neither): ``ATD FY24 YTD`` beside ``ATD EOFY23`` in an FY24 file gives FY24's."""
    of_role = [s for s in sheets if s.role == role]
    return (next((s for s in of_role if s.fiscal_year in years), None)
            or next((s for s in of_role if s.fiscal_year is None), None))


def _skip_reason(sheet: SheetInfo, fiscal_year: int) -> str:
    if sheet.fiscal_year is None or sheet.fiscal_year == fiscal_year:
        return f"sheet '{sheet.label}' is a second {sheet.role} sheet; the first one is read"
    kind = "year-end re-post" if sheet.end_of_year else "sheet"
    return f"sheet '{sheet.label}' is FY{sheet.fiscal_year}'s {kind}; not read as FY{fiscal_year}"
