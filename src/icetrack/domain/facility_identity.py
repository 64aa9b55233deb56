"""Which rows of ICE's Facilities sheets are one facility: a stable identity across editions.

ICE's detention-statistics workbooks (https://www.ice.gov/detain/detention-management) list each facility by
name, city and state, and print no facility code (no edition from FY2019 to FY2026 has one). The same
facility is printed differently from edition to edition (``Adams County Det Center`` in January 2024,
``ADAMS COUNTY DET CENTER`` in FY2025), and different facilities share a name (``ORANGE COUNTY JAIL`` in
Goshen, NY and in Orlando, FL). The rules:

* **Normalised name** (:func:`normalised_name`): upper case; ``&`` read as ``AND``; apostrophes dropped
  (``SHERIFF'S`` -> ``SHERIFFS``); every other run of punctuation and whitespace one space; a trailing
  qualifier naming the facility's own state dropped (``ORANGE COUNTY JAIL (NY)``, ``CASCADE COUNTY JAIL, MT``,
  ``LEHIGH COUNTY JAIL (PENNSYLVANIA)``: the state is part of the identity anyway); and the abbreviations
  ICE uses expanded, the same way everywhere (``DET`` -> ``DETENTION``, ``CTR`` -> ``CENTER``, ``CO`` ->
  ``COUNTY``, :data:`ABBREVIATIONS`).
* **Identity** = normalised name + state; the city joins it only where one edition lists two facilities
  with the same normalised name in one state (none so far). The city is not part of every identity because
  ICE spells cities differently between editions (``BINGHAMPTON``/``BINGHAMTON``, ``SAULT STE MARIE``/
  ``SAULT SAINTE MARIE``). The facility id is readable: the identity as a slug,
  ``orange-county-jail-ny``.
* **Renames and merges** come only from the curated list :data:`RENAMES_FILE` (old name and state -> new
  name and state, ``rename`` when ICE renamed the facility, ``merge`` when two printed identities are one
  facility, e.g. a row printed without its state; each with its evidence and the first edition printing the
  new name). A renamed facility takes the id of its newest name, and every earlier id stays an alias of it,
  so a link made before the rename was recorded still finds it. Anything else that looks like a rename (one
  name disappearing as another appears at the same city, state and AOR) is listed by
  :func:`rename_candidates` as unconfirmed and never merged.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

STATE_NAMES = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA", "CO": "COLORADO",
    "CT": "CONNECTICUT", "DE": "DELAWARE", "DC": "DISTRICT OF COLUMBIA", "FL": "FLORIDA", "GA": "GEORGIA",
    "HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS", "IN": "INDIANA", "IA": "IOWA", "KS": "KANSAS",
    "KY": "KENTUCKY", "LA": "LOUISIANA", "ME": "MAINE", "MD": "MARYLAND", "MA": "MASSACHUSETTS",
    "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI", "MO": "MISSOURI", "MT": "MONTANA",
    "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY", "NM": "NEW MEXICO",
    "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO", "OK": "OKLAHOMA",
    "OR": "OREGON", "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA", "SD": "SOUTH DAKOTA",
    "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT", "VA": "VIRGINIA", "WA": "WASHINGTON",
    "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING", "PR": "PUERTO RICO", "GU": "GUAM",
    "MP": "NORTHERN MARIANA ISLANDS", "VI": "U.S. VIRGIN ISLANDS", "AS": "AMERICAN SAMOA",
}
# Abbreviations in ICE's facility names, each expanded the same way wherever it stands as a word.
ABBREVIATIONS = {
    "DET": "DETENTION", "CTR": "CENTER", "CNTR": "CENTER", "CO": "COUNTY", "CTY": "COUNTY",
    "CORR": "CORRECTIONAL", "COR": "CORRECTIONAL", "FAC": "FACILITY", "DEPT": "DEPARTMENT", "FED": "FEDERAL",
    "INST": "INSTITUTION", "PUB": "PUBLIC", "SFTY": "SAFETY", "CPLX": "COMPLEX", "HOSP": "HOSPITAL",
    "FAM": "FAMILY", "REG": "REGIONAL", "ST": "SAINT", "STE": "SAINTE", "D F": "DETENTION FACILITY",
}
NO_STATE = "??"  # a row printed without a state (FY26_detentionStats_04092026.xlsx, IMPERIAL REGIONAL ...)
RENAMES_FILE = "facility_renames.csv"
RENAME_KINDS = ("rename", "merge")
RENAME_COLUMNS = ("old_name", "old_state", "new_name", "new_state", "kind", "first_edition", "evidence",
                  "source_url")

_APOSTROPHES = re.compile(r"['\u2018\u2019`]")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


class FacilityRenamesError(ValueError):
    """The curated renames file is not usable (a bad row, a cycle); one line naming the row."""


@lru_cache(maxsize=128)
def _state_qualifier(state: str) -> re.Pattern[str]:
    names = [re.escape(state)] + ([re.escape(STATE_NAMES[state])] if state in STATE_NAMES else [])
    return re.compile(r"\s*(?:\(\s*(?:" + "|".join(names) + r")\s*\)|,\s*(?:" + "|".join(names) + r"))\s*$")


@lru_cache(maxsize=8192)
def normalised_name(name: str, state: str | None = None) -> str:
    """The name as the identity compares it (see the module docstring)."""
    text = " ".join(str(name).upper().split())
    if state:
        stripped = _state_qualifier(state.upper()).sub("", text)
        text = stripped or text
    text = _APOSTROPHES.sub("", text.replace("&", " AND "))
    words = _NON_ALNUM.sub(" ", text).split()
    out: list[str] = []
    for word in words:
        if out and f"{out[-1]} {word}" in ABBREVIATIONS:  # two-word abbreviations: ELIZABETH CONTRACT D.F.
            out[-1] = ABBREVIATIONS[f"{out[-1]} {word}"]
        else:
            out.append(ABBREVIATIONS.get(word, word))
    return " ".join(out)


def state_of(state: str | None) -> str:
    return (state or "").strip().upper() or NO_STATE


@dataclass(frozen=True, order=True)
class FacilityKey:
    """A printed facility as the identity sees it: normalised name, state and (only where needed) city."""

    name: str
    state: str
    city: str = ""

    @cached_property
    def slug(self) -> str:
        parts = [self.name, self.city, "no state" if self.state == NO_STATE else self.state]
        return "-".join(_NON_ALNUM.sub(" ", p.upper()).strip().lower().replace(" ", "-") for p in parts if p)


@lru_cache(maxsize=8192)
def key_of(name: str, state: str | None, city: str | None = None) -> FacilityKey:
    st = state_of(state)
    city_key = normalised_name(city or "") if city is not None else ""
    return FacilityKey(normalised_name(name, None if st == NO_STATE else st), st, city_key)


@dataclass(frozen=True)
class Rename:
    old: FacilityKey
    new: FacilityKey
    kind: str
    old_name: str
    new_name: str
    first_edition: str
    evidence: str
    source_url: str


def renames_path() -> Path:
    return Path(str(resources.files("icetrack") / "data" / RENAMES_FILE))


def read_renames(path: Path | None = None) -> tuple[Rename, ...]:
    """The curated renames and merges (:data:`RENAMES_FILE`), checked: known kind, both states, a source URL,
    no name renamed twice, no cycle."""
    path = path or renames_path()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(line for line in fh if not line.startswith("#"))
        if tuple(reader.fieldnames or ()) != RENAME_COLUMNS:
            raise FacilityRenamesError(f"{path.name}: header must be {','.join(RENAME_COLUMNS)}")
        rows = list(reader)
    out: list[Rename] = []
    seen: dict[FacilityKey, int] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{path.name} row {number}"
        if row["kind"] not in RENAME_KINDS:
            raise FacilityRenamesError(f"{where}: kind '{row['kind']}' is not one of {', '.join(RENAME_KINDS)}")
        if not row["new_state"].strip() or not row["new_name"].strip() or not row["old_name"].strip():
            raise FacilityRenamesError(f"{where}: old_name, new_name and new_state are required")
        if not row["source_url"].startswith("https://"):
            raise FacilityRenamesError(f"{where}: source_url must cite the public evidence (https://...)")
        old, new = key_of(row["old_name"], row["old_state"]), key_of(row["new_name"], row["new_state"])
        if old == new:
            raise FacilityRenamesError(f"{where}: old and new are the same facility once normalised ({old.slug})")
        if old in seen:
            raise FacilityRenamesError(f"{where}: {old.slug} is already renamed on row {seen[old]}")
        seen[old] = number
        out.append(Rename(old, new, row["kind"], row["old_name"], row["new_name"], row["first_edition"],
                          row["evidence"], row["source_url"]))
    _check_acyclic(out, path.name)
    return tuple(out)


def _check_acyclic(renames: list[Rename], file_name: str) -> None:
    step = {r.old: r.new for r in renames}
    for start in step:
        seen, key = {start}, step[start]
        while key in step:
            if key in seen:
                raise FacilityRenamesError(f"{file_name}: renames form a cycle through {key.slug}")
            seen.add(key)
            key = step[key]


@lru_cache(maxsize=4)
def _bundled_renames() -> tuple[Rename, ...]:
    return read_renames()


@dataclass
class Identity:
    """The curated renames applied: each printed key -> its facility's key (the newest name's)."""

    renames: tuple[Rename, ...] = field(default_factory=_bundled_renames)
    city_keys: frozenset[tuple[str, str]] = frozenset()  # (name, state) told apart by city

    def key(self, name: str, state: str | None, city: str | None = None) -> FacilityKey:
        """The key of a printed row, before renames (with the city where the identity needs it)."""
        base = key_of(name, state)
        if (base.name, base.state) in self.city_keys:
            return key_of(name, state, city or "")
        return base

    @cached_property
    def _step(self) -> dict[FacilityKey, FacilityKey]:
        return {r.old: r.new for r in self.renames}

    def canonical(self, key: FacilityKey) -> FacilityKey:
        while key in self._step:
            key = self._step[key]
        return key

    def facility_key(self, name: str, state: str | None, city: str | None = None) -> FacilityKey:
        """The key of the facility a printed row belongs to (renames and merges applied)."""
        return self.canonical(self.key(name, state, city))

    def facility_id(self, name: str, state: str | None, city: str | None = None) -> str:
        return self.facility_key(name, state, city).slug

    def aliases(self) -> dict[str, str]:
        """Every id a renamed facility had under an earlier name -> its id now."""
        return {r.old.slug: self.canonical(r.new).slug for r in self.renames}

    def renames_into(self, facility_id: str) -> list[Rename]:
        """The recorded renames and merges that end in ``facility_id``."""
        return [r for r in self.renames if self.canonical(r.new).slug == facility_id]


def city_keys(rows: list[tuple[str, str, str | None, str | None]]) -> frozenset[tuple[str, str]]:
    """(normalised name, state) pairs that one edition lists at two cities: ``rows`` are (edition, name,
    state, city) of every listing. Those identities include the city."""
    cities: dict[tuple[str, str, str], set[str]] = {}
    for edition, name, state, city in rows:
        key = key_of(name, state)
        cities.setdefault((edition, key.name, key.state), set()).add(normalised_name(city or ""))
    return frozenset((name, state) for (_, name, state), found in cities.items() if len(found) > 1)


@dataclass(frozen=True)
class Span:
    """Where and when one facility identity is listed: what a rename candidate is judged on."""

    facility_id: str
    name: str  # as printed in its latest listing
    state: str
    city: str
    aor: str
    facility_type: str
    first: date
    last: date
    editions: frozenset[str]


def rename_candidates(spans: list[Span]) -> list[dict[str, object]]:
    """Pairs of identities that may be one facility renamed, for a person to confirm (never merged here):
    same state, city (normalised) and AOR, never listed in one edition together, the old one's last listing
    before the new one's first. Closest in time first."""
    by_place: dict[tuple[str, str, str], list[Span]] = {}
    for s in spans:
        by_place.setdefault((s.state, normalised_name(s.city), s.aor), []).append(s)
    out = []
    for group in by_place.values():
        for old in group:
            for new in group:
                if old is new or old.last >= new.first or old.editions & new.editions:
                    continue
                out.append({"old_id": old.facility_id, "old_name": old.name, "old_last_listed": old.last.isoformat(),
                            "new_id": new.facility_id, "new_name": new.name,
                            "new_first_listed": new.first.isoformat(), "state": old.state, "city": new.city,
                            "aor": old.aor, "same_type": old.facility_type == new.facility_type,
                            "gap_days": (new.first - old.last).days, "status": "unconfirmed"})
    return sorted(out, key=lambda c: (c["gap_days"], c["old_id"], c["new_id"]))
