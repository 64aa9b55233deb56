"""Label vocabularies of ICE's detention-statistics workbooks, and the forms labels are matched in.

Labels are stripped and inner whitespace collapsed (:func:`norm_text`); titles and labels are matched on
:func:`text_key` (lower case, punctuation -> space), so ``'ICE  '``, ``'Average '`` and ``'Convicted
Criminals'`` find their canonical spelling.
"""

from __future__ import annotations

import re
from typing import Any

UNIT_PERSONS = "persons"
UNIT_ADP = "persons (average daily population, midnight)"
UNIT_DAYS = "days"

AGENCIES = ("ICE", "CBP", "Total")
CRIMINALITIES = ("Convicted Criminal", "Pending Criminal Charges", "Other Immigration Violator", "Total")
NON_CRIMINAL = "Non-Criminal"

CRIMINALITY_BY_KEY = {
    "total": "Total",
    "convicted criminal": "Convicted Criminal",
    "convicted criminals": "Convicted Criminal",
    "crim": "Convicted Criminal",
    "pending criminal charges": "Pending Criminal Charges",
    "pending criminal charge": "Pending Criminal Charges",
    "other immigration violator": "Other Immigration Violator",
    "other immigration violators": "Other Immigration Violator",
    "non criminal": NON_CRIMINAL,
    "non crim": NON_CRIMINAL,
}

_RELEASE_REASONS = (
    "Bonded Out",
    "Bond Set by ICE",
    "Bond Set by IJ",
    "Order of Recognizance",
    "Order of Supervision",
    "Paroled",
    "Proceedings Terminated",
    "Release to Remove",
    "Relief Granted by IJ",
    "Transfer to U.S. Marshals or other agency",
    "Transferred",
    "Other",
    "Court Ordered",
    "Prosecutorial Discretion",
    "Total",
)

_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH_FULL_NAMES = {"january", "february", "march", "april", "may", "june", "july", "august",
                     "september", "sept", "october", "november", "december"}


def norm_text(text: Any) -> str:
    """Strip and collapse whitespace (including non-breaking spaces)."""
    return " ".join(str(text).split())


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def text_key(text: Any) -> str:
    """Case- and punctuation-insensitive form used to match titles and labels."""
    return " ".join(_NON_ALNUM.sub(" ", str(text).lower()).split())


def agency_of(label: str) -> str:
    key = text_key(label)
    if key in ("ice", "cbp"):
        return key.upper()
    if key in ("total", ""):
        return "Total"
    return norm_text(label)


def month_of(header: str) -> int | None:
    key = text_key(header)
    if key in _MONTHS:
        return _MONTHS[key]
    if key in _MONTH_FULL_NAMES:
        return _MONTHS[key[:3]]
    return None


def is_fy_total(header: str) -> bool:
    return text_key(header) in ("fy overall", "fy total", "fytd", "total", "fy ytd")


REASON_BY_KEY = {text_key(reason): reason for reason in _RELEASE_REASONS}

