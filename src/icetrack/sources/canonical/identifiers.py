"""Direct identifiers in a person-level file: columns that name, locate or identify one person.

icetrack loads only already-anonymised public releases and publishes aggregates. The crosswalk already
withholds the identifier columns the real releases are known to carry (A-numbers, EID subject ids, birth
dates, names - redacted in every public file); this module catches the ones it does not know, among the
columns that would otherwise be kept, as text, in ``extra``:

* by header name (:func:`header_rule`): names, aliases, birth dates (a birth *year* alone is not a direct
  identifier - the public releases carry it and it is loaded as ``birth_year``), SSNs, A-numbers, FBI / state /
  fingerprint numbers, passports, driver's licences, licence plates, personal addresses, ZIP codes, phone
  numbers, e-mail addresses, EID subject / person ids, officers' ids. An address, ZIP or phone qualified by an
  institution (``Detention Facility Address``, ``Port ZIP``) is the institution's, not the person's.
* by the shape of the values (:func:`value_rule`), on a sample of a column's non-blank cells: SSNs,
  A-numbers, e-mail addresses, U.S. phone numbers, U.S. street addresses, and full dates in a column whose
  name speaks of birth. Most of the sample must match (:data:`SHARE`), so a stray value does not condemn a
  column; the anonymised ids of the releases (40-hex hashes, 19-digit numbers) have none of these shapes, and
  a person key whose name says it was anonymised ('Unique Person Identifier', 'hashed_subject_id') is not
  flagged by its name.

A flagged column's values are never loaded (not in ``extra``, not in any table or message); the file is
refused unless the ingest policy says to drop such columns (:class:`~icetrack.domain.plausible.IngestPolicy`).
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

HEADER = "header"  # the rule that flags a column by its name
SAMPLE = 1_000  # non-blank values examined per column
SHARE = 0.8  # the share of them that must have one identifying shape

# Words that make an address, ZIP code or phone number an institution's rather than a person's.
_INSTITUTION = re.compile(r" (?:facility|facilities|port|landmark|site|office|court|jail|agency|prison|"
                          r"institution|detention|center|centre|consulate|embassy|dco|aor) ")
_NUMBER = r"(?:number|numbers|num|nbr|no|id|identifier)"
# Header patterns, matched against the header's words joined by single spaces and padded with one space
# (' date of birth '), so each alternative starts and ends on a word boundary. A '#' reads as 'number'.
_PERSONAL_HEADERS = [
    # names and aliases
    r" (?:full|first|last|middle|given|family|sur|fore|maiden|legal|birth|christian|nick|alien|person|subject|"
    r"detainee|individual|respondent|mothers?|mother s|fathers?|father s|spouse|parent|guardian|sponsor|contact|"
    r"officer|agent|employee) ?names? ",
    r"^ names? $", r" names? (?:first|last|full|middle|given|family) ",
    r" (?:surname|forename|fname|lname|mname|alias|aliases|aka|a k a|also known as) ",
    # birth dates (a year alone is not flagged: see the module doc)
    r" (?:dob|d o b|date ?of ?birth|date birth|birth ?(?:date|dt|dte|day)|birthday|bday|born ?on|"
    r"fecha de nacimiento) ",
    r" birth ?(?:month|mo|mon|ym|yyyymm) ", r" month ?of ?birth ",
    # social security and taxpayer numbers
    r" (?:ssn|ssns|ssan|itin|social ?security|soc ?sec|ss ?(?:number|num|nbr|no)|taxpayer ?id\w*) ",
    # A-numbers (alien registration numbers) and other immigration-file numbers
    r" (?:a ?(?:number|num|nbr|no)|anumber|anum|alien ?(?:number|num|nbr|no|id|registration|file)|"
    r"a ?file ?(?:number|num|nbr|no)|afile|uscis ?(?:number|num|nbr|no|id)) ",
    # criminal-history, biometric and state identifiers
    r" (?:fbi|ucn|fin|fins|iafis|sid|fingerprint) ?" + _NUMBER + r"? $",
    r"^ (?:fbi|ucn|fin|fins|iafis|sid|fingerprint) ", r" (?:fbi|fingerprint|iafis) ?" + _NUMBER + " ",
    r" state ?(?:id|identification) ",
    # identity documents, vehicles
    r" passport ?" + _NUMBER + " ", r"^ passports? $",
    r" drivers? ?s? ?licen[cs]e ", r" (?:dl|dln) ?(?:number|num|nbr|no) ", r"^ dln $",
    r" (?:national ?id|national ?identification|identification ?number|id ?number|curp|cedula) ",
    r" (?:licen[cs]e|vehicle|tag) ?plates? ", r" plate ?(?:number|num|nbr|no) ",
    # officers' and employees' ids
    r" (?:employee|officer|agent|supervisor)\d* ?(?:id|number|num|nbr|no) ", r" badge ?" + _NUMBER + "? ",
    # e-mail (an institution has no e-mail column in these releases either)
    r" (?:e ?mail|email ?address) ",
]
# The agencies' own keys of a person (the crosswalk withholds the known spellings) and jail bookings - unless
# the name says the key was anonymised, as the releases' own ids are ('Unique Person Identifier' in CBP files).
_KEY_HEADERS = [
    r" eid(?: \w+)* (?:id|identifier) ",
    r" (?:subject|subj|person|civilian|detainee|inmate|prisoner|booking) ?(?:id|identifier|number|num|nbr|no) ",
]
_ANONYMISED = re.compile(r" (?:unique|anonymi[sz]ed|anon|hashed|hash|masked|pseudonymi[sz]ed|pseudonym|encrypted|"
                         r"sequential|synthetic) ")
# Where a person lives or is reached: flagged unless an institution's (see _INSTITUTION).
_LOCATION_HEADERS = [
    # ('street' alone, not the 'Criminal Street Gang' flag the releases carry)
    r" (?:address|addresses|addr|street(?! gang)|zip|zips|zip ?code|zipcode|postal ?code|postcode|post ?code|"
    r"apartment|house ?number) ",
    r" (?:phone|phones|telephone|tel|cellphone|cell ?phone|mobile ?(?:number|phone|no)?) ",
]
_PERSONAL_RE = re.compile("|".join(f"(?:{p})" for p in _PERSONAL_HEADERS))
_LOCATION_RE = re.compile("|".join(f"(?:{p})" for p in _LOCATION_HEADERS))
_KEY_RE = re.compile("|".join(f"(?:{p})" for p in _KEY_HEADERS))
_BIRTHISH = re.compile(r" (?:birth\w*|born|dob|nacimiento) ")

# Value shapes, each with the words the refusal uses for it.
_SHAPES = [
    ("SSNs", r"^\d{3}[- ]\d{2}[- ]\d{4}$"),
    ("A-numbers", r"^[Aa] ?[-#]? ?\d(?:[- ]?\d){7,8}$"),
    ("e-mail addresses", r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"),
    ("phone numbers", r"^(?:\+?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$"),
    ("street addresses", r"(?i)^(?:\d{1,6}[A-Z]? +(?:[NSEW]\.? +)?(?:[A-Z0-9'.-]+ +){0,4}"
                         r"(?:st|street|ave|av|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|"
                         r"place|hwy|highway|pkwy|parkway|ter|terrace|cir|circle|trl|trail|sq|square)\b"
                         r"|p\.? ?o\.? *box +\d)"),
]
# A full date (day precision), in the spellings the readers accept.
_FULL_DATE = (r"^(?:\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|\d{1,2}/\d{1,2}/\d{2,4}"
              r"(?: \d{1,2}:\d{2}.*)?|\d{1,2}-[A-Za-z]{3}-\d{2,4}|(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2})$")


def header_words(name: object) -> str:
    """' word word ': the header's words, lower case, camelCase split, '#' read as 'number'."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("#", " number ").casefold()
    return " " + " ".join(re.findall(r"[^\W_]+", text)) + " "


def header_rule(name: object) -> str | None:
    """:data:`HEADER` when the column's name says it holds a direct identifier, else None."""
    words = header_words(name)
    if _PERSONAL_RE.search(words):
        return HEADER
    if _KEY_RE.search(words) and not _ANONYMISED.search(words):
        return HEADER
    if _LOCATION_RE.search(words) and not _INSTITUTION.search(words):
        return HEADER
    return None


def value_rule(name: object, values: pa.Array) -> str | None:
    """'values look like SSNs' (A-numbers, e-mail addresses, ...) when at least :data:`SHARE` of a sample of
    the non-blank text ``values`` have one identifying shape; 'values are full dates of birth' for full dates
    in a column whose name speaks of birth; else None."""
    if not pa.types.is_string(values.type):
        return None
    sample = pc.utf8_trim_whitespace(values.drop_null())
    sample = sample.filter(pc.not_equal(sample, "")).slice(0, SAMPLE)
    if len(sample) == 0:
        return None
    if _BIRTHISH.search(header_words(name)) and _share(sample, _FULL_DATE) >= SHARE:
        return "values are full dates of birth"
    shares = [(_share(sample, pattern), label) for label, pattern in _SHAPES]
    best, label = max(shares)
    if best >= SHARE:
        return f"values look like {label}"
    return None


def _share(sample: pa.Array, pattern: str) -> float:
    hits = pc.sum(pc.match_substring_regex(sample, pattern)).as_py() or 0
    return hits / len(sample)

