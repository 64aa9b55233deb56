"""Build ``src/icetrack/data/ddp_crosswalk.csv``: source column names of person-level ICE FOIA files ->
canonical columns of ``icetrack.domain.person_schema.TABLES``.

    uv run python tools/build_crosswalk.py [--docs ../shared/data] [--check]

Inputs (read-only, from the shared folder; only their column *names* are used, never a data row):

* ``deportationdata-org-docs/codebook.html`` - the DDP codebook of the latest release; its embedded JSON
  says, per field, in which of the five tables it is published ("In latest data?").
* ``deportationdata-org-docs/ddp_ice_codebook_fields_older_releases_extracted.csv`` - fields of earlier
  releases (no table given: listed for every table).
* ``deportationdata-org-docs/data_column_names.xlsx`` - raw header names of 239 FOIA files, each with its
  agency, table type and release; only ICE files of the types arrests / detainers / detentions / encounters
  / removals are used, each header under its own table.
* ``uwchr-deport-data-proj/joined_df_wa.csv`` - header only: DDP processed names with ``.arrest``,
  ``.detainer``, ``.encounter``, ``.detention`` suffixes saying the table.
* ``PROVENANCE.md`` - the header lists of the Seattle ERO-LESA exports (``aor-seattle-raw``).

Each (table, source name) becomes one row. Its canonical column is, in order: the hand table below, or the
canonical column whose normalised key equals the source's (``column_key``: lower case, letters and digits
only, so 'Apprehension AOR' = 'apprehension_aor'), or blank = no canonical home (the reader keeps the value,
as text, in ``extra`` and reports the column). ``!withheld`` marks direct identifiers (A-numbers, EID
subject/person/case ids, names, birth dates, employee ids): the reader never copies their values (they are
redacted in every public release; a non-redacted value would be dropped and reported), only counts them.
``release_note`` lists where the name was seen; a note starting ``fallback`` means "use this column only
when the file has no better source for the canonical column" (e.g. a date-only column beside a date-time).

Rows are unique per (table, source_column); two spellings with the same key always map alike (checked).
``--check`` rebuilds in memory and fails if the committed CSV differs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import fastexcel

from icetrack.domain.person_schema import PROVENANCE, TABLES
from icetrack.sources.canonical.crosswalk import CROSSWALK_PATH, WITHHELD, column_key

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = REPO.parent / "shared" / "data"

CANONICAL_TABLES = tuple(TABLES)
OMIT = {name for name, _ in PROVENANCE} | {"extra"}
CANONICAL = {t: [f.name for f in TABLES[t] if f.name not in OMIT] for t in CANONICAL_TABLES}

# data_column_names.xlsx 'Type' / codebook table label / joined suffix -> canonical table
RAW_TYPES = {"arrests": "arrests", "detainers": "detainers", "detentions": "detention_stints",
             "encounters": "encounters", "removals": "removals"}
CODEBOOK_TABLES = {"Admin Arrests": "arrests", "Detainers": "detainers", "Detentions": "detention_stints",
                   "Encounters": "encounters", "Removals": "removals"}
JOINED_SUFFIXES = {"arrest": "arrests", "detainer": "detainers", "detention": "detention_stints",
                   "encounter": "encounters"}
ERO_LESA_FILES = {"arrests": "arrests", "bookins": "detention_stints", "expedited-removals": "removals",
                  "other-removals": "removals", "CAP-FY2017-arrests": "arrests",
                  "CAP-FY2017-encounters": "encounters", "CAP-FY2017-removals": "removals",
                  "CAP-FY2018-arrests": "arrests", "CAP-FY2018-encounters": "encounters",
                  "CAP-FY2018-removals": "removals"}

ALL = "*"  # hand rows for every table that has the canonical column
TITLE_TEXT = re.compile(r"official use only|pre-?decisional", re.IGNORECASE)  # title text, not a header

# --- hand mappings: (table or ALL, source name as printed, canonical column, why) --------------------------
# Only what the key rule cannot find. A fallback row is used when the file has no primary source.
HAND: list[tuple[str, str, str, str]] = [
    # Identifiers. The anonymized person hash is 'Unique Identifier' in the 2025 releases, 'Anonymized
    # Identifier' (processed: anonymized_identifier; one raw file misspells it) in earlier ones, and
    # 'Sequence Number/Unique Identifier' in 2022-ICFO-22955 (FORMATS.md section 3).
    (ALL, "Anonymized Identifier", "unique_identifier", "renamed unique_identifier in later releases"),
    (ALL, "Anonymized Identifer", "unique_identifier", "misspelt raw header (2023_ICFO_42034 removals)"),
    (ALL, "Sequence Number/Unique Identifier", "unique_identifier", "2022-ICFO-22955 name of the person hash"),
    # Citizenship: ERO-LESA exports print 'Country of Citizenship', the NPR detainer files 'ERO Citizenship'.
    (ALL, "Country of Citizenship", "citizenship_country", "ERO-LESA name"),
    (ALL, "ERO Citizenship", "citizenship_country", "detainers (npr) name"),
    # 2022-ICFO-22955 gives the birth year as 'Numeric Birth Year' beside a redacted 'Birth Date'.
    (ALL, "Numeric Birth Year", "birth_year", "2022-ICFO-22955 name"),
    # Arrests. ERO-LESA / UWCHR files call the arrest 'Arrest Date' and its method 'Arrest Method';
    # 2022-ICFO-22955 prints 'Apprehension Date And Time'; the AOR of an arrest file is the arresting AOR.
    ("arrests", "Arrest Date", "apprehension_date", "ERO-LESA / UWCHR name of the arrest date"),
    ("arrests", "Apprehension Date And Time", "apprehension_date", "2022-ICFO-22955 name"),
    ("arrests", "toa_current_duty_aor", "apprehension_aor", "older DDP processed name (FORMATS.md section 3)"),
    ("arrests", "Area of Responsibility", "apprehension_aor", "ERO-LESA / UWCHR arrests: the arresting AOR"),
    ("arrests", "Arrest Method", "apprehension_method", "ERO-LESA / UWCHR name"),
    ("arrests", "Apprehension Site Landmark", "apprehension_landmark",
     "2025 raw name; canonical keeps the older 'Apprehension Landmark'"),
    ("arrests", "Apprehension Final Program", "final_program", "2022-ICFO-22955 name"),
    ("arrests", "Encounter Processing Disposition", "processing_disposition", "2022-ICFO-22955 name"),
    ("arrests", "Most Serious Criminal Conviction", "most_serious_conviction", "2022-ICFO-22955 name"),
    # 2022-ICFO-22955 locates the arrest by 'City', 'County', 'State' (after 'Physical Site').
    ("arrests", "County", "apprehension_county", "2022-ICFO-22955: county of the arrest"),
    ("arrests", "State", "apprehension_state", "2022-ICFO-22955: state of the arrest"),
    # Detainers: the NPR files' 'Prepare Date' is the detainer prepare date and their AOR column is the
    # AOR that lodged it (the canonical table has only facility_aor).
    ("detainers", "Prepare Date", "detainer_prepare_date", "detainers (npr) name"),
    ("detainers", "Area of Responsibility", "facility_aor", "detainers (npr): the AOR column"),
    # Detention stints: each FOIA names the book-in/out differently; a date-only column is a fallback for
    # a date-time one printed beside it (2019-ICFO-21307 has 'Book In Date' and 'Book In Date And Time').
    ("detention_stints", "Book In Date And Time", "book_in_date_time", "2019-ICFO-21307 name"),
    ("detention_stints", "Detention Book In Date And Time", "book_in_date_time", "uwchr detentions name"),
    ("detention_stints", "Detention Book In Date", "book_in_date_time", "2023_ICFO_42034 name (date only)"),
    ("detention_stints", "Book In Date", "book_in_date_time",
     "fallback; ERO-LESA 'Initial Book Ins' and 2019-ICFO-21307 (date only)"),
    ("detention_stints", "Book Out Date And Time", "detention_book_out_date_time", "2019-ICFO-21307 name"),
    ("detention_stints", "Book Out Date", "detention_book_out_date_time", "fallback; 2019-ICFO-21307 (date only)"),
    ("detention_stints", "Detention Book Out Date", "detention_book_out_date_time", "2023_ICFO_42034 name"),
    ("detention_stints", "Stay Book In Date", "stay_book_in_date_time", "2023_ICFO_42034 name (date only)"),
    ("detention_stints", "Stay Book Out Date", "stay_book_out_date_time",
     "fallback; date-only twin of 'Stay Book Out Date Time' (2025 releases), alone in 2023_ICFO_42034"),
    ("detention_stints", "Release Reason", "detention_release_reason", "2019-ICFO-21307 name"),
    ("detention_stints", "MSC Charge", "most_serious_conviction", "2025 detentions / uwchr: MSC description"),
    # Encounters: ERO-LESA CAP and UWCHR encounter files.
    ("encounters", "Event Area of Responsibility", "responsible_aor", "ERO-LESA CAP encounters name"),
    ("encounters", "Area of Responsibility", "responsible_aor", "uwchr encounters name"),
    ("encounters", "Landmark", "event_landmark", "ERO-LESA CAP / uwchr encounters name"),
    # Removals: the AOR of a removal is its docket AOR; the charge section has several names; a removal's
    # 'Arrest Date' (CAP exports: "the earlier arrest") and 'Latest Person Apprehension Date' are the arrest.
    ("removals", "Area of Responsibility", "aor", "ERO-LESA / UWCHR removals"),
    ("removals", "Docket AOR", "aor", "2025 removals: the AOR responsible for the case"),
    ("removals", "Final Charge Section Code", "final_charge_section", "2025 removals name"),
    ("removals", "Charge Section Code", "final_charge_section", "2023_ICFO_42034 removals name"),
    ("removals", "Departure Date", "departed_date", "2023_ICFO_42034 removals name"),
    ("removals", "Removal Date", "departed_date", "fallback; uwchr removals print it beside 'Departed Date'"),
    ("removals", "Arrest Date", "apprehension_date", "ERO-LESA CAP / uwchr removals: the earlier arrest"),
    ("removals", "Latest Person Apprehension Date", "apprehension_date", "2025 removals name"),
    # The MSC description: 'Most Serious Conviction (MSC) Charge' (2025 detainers, 062025 removals), 'Most
    # Serious Conviction Charge' (earlier releases; processed most_serious_conviction_charge, and the
    # Stata-truncated most_serious_conviction_msc_ch), 'MSC Charge' / 'MSC NCIC Charge' in some files. Mapped
    # wherever the table has the canonical column (detainers and encounters have none: kept in extra).
    (ALL, "Most Serious Conviction (MSC) Charge", "most_serious_conviction", "MSC description"),
    (ALL, "Most Serious Conviction Charge", "most_serious_conviction", "MSC description (earlier releases)"),
    (ALL, "Most serious conviction  msc  ch", "most_serious_conviction",
     "MSC description, name truncated at 32 characters in an earlier release"),
    ("removals", "MSC NCIC Charge", "most_serious_conviction", "082025 removals name of the MSC description"),
    ("removals", "MSC Charge", "most_serious_conviction", "2023_ICFO_42034 removals name"),
    # Direct identifiers and birth dates: never loaded (see module doc). Always redacted in public files.
    *[(ALL, name, WITHHELD, "direct identifier / birth date: values never loaded") for name in (
        "Alien File Number", "Alien File Numbe", "A Number", "EID Case ID", "EID Subject ID",
        "EID Person ID", "EID Civilian ID", "EID DTA ID", "Subject ID", "SUBJ ID", "SUJB ID", "Case ID",
        "Detainer ID", "Detention ID", "Primary Detention Id", "Eid Cse Id", "Eid Dt Id", "Eid Dt Civ Id",
        "Eid Dt Peh Id", "Eid Dt Pih Id", "Book In Employee Id", "Book Out Employee Id",
        "Searching Employee1 Id", "Searching Employee2 Id", "FIRST NAME", "LAST NAME", "Birth Date",
        "Date of Birth")],
]


def hand_index() -> dict[tuple[str, str], tuple[str, str, str]]:
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for table, name, canonical, why in HAND:
        tables = CANONICAL_TABLES if table == ALL else (table,)
        for t in tables:
            if canonical != WITHHELD and canonical not in CANONICAL[t]:
                if table == ALL:
                    continue
                raise SystemExit(f"hand row ({table}, {name}) -> unknown canonical column {canonical}")
            key = (t, column_key(name))
            if key in out:  # one hand row per key: every spelling of the key is covered by it
                raise SystemExit(f"two hand rows for {key}")
            out[key] = (canonical, "hand: " + why, name)
    return out


def snake(name: str) -> str:
    """janitor::clean_names-style processed name (what DDP's processed files use)."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


# --- inputs -------------------------------------------------------------------------------------------------

def codebook_current(docs: Path) -> list[tuple[str, str, str]]:
    html = (docs / "deportationdata-org-docs" / "codebook.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/json" data-for="[^"]+">(.*?)</script>', html, re.DOTALL)
    for block in blocks:
        attribs = json.loads(block)["x"]["tag"]["attribs"]
        names = attribs["data"].get("Name", [])
        details = attribs["columns"][0].get("details") if attribs.get("columns") else None
        if len(names) > 50 and details:
            break
    else:
        raise SystemExit("codebook.html: latest-release field table not found")
    out = []
    for name, det in zip(names, details):
        avail = det["children"][1]["attribs"]["data"]
        for label, table in CODEBOOK_TABLES.items():
            if avail.get(label, ["N"])[0] == "Y":
                out.append((table, name, "ddp codebook (latest release)"))
                out.append((table, snake(name), "ddp processed name (latest release)"))
    return out


def codebook_older(docs: Path) -> list[tuple[str, str, str]]:
    path = docs / "deportationdata-org-docs" / "ddp_ice_codebook_fields_older_releases_extracted.csv"
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for table in CANONICAL_TABLES:  # the codebook does not say which table: every table
                out.append((table, row["Name"], "ddp codebook (earlier releases)"))
                out.append((table, snake(row["Name"]), "ddp processed name (earlier releases)"))
    return out


def raw_headers(docs: Path) -> list[tuple[str, str, str]]:
    """ICE raw headers per (table, release) from data_column_names.xlsx."""
    sheet = fastexcel.read_excel(str(docs / "deportationdata-org-docs" / "data_column_names.xlsx")).load_sheet(
        0, dtypes="string")
    cols = sheet.to_arrow().to_pydict()
    header_cols = [c for c in cols if c.isdigit()]
    out = []
    for i in range(len(cols["path"])):
        parts = (cols["path"][i] or "").split("/")
        if len(parts) < 3 or parts[0] != "ice" or parts[1] not in RAW_TYPES:
            continue
        table = RAW_TYPES[parts[1]]
        release = parts[2]  # the path keeps leading zeros ('072025') that the Release column lost
        for c in header_cols:
            h = cols[c][i]
            if h is not None and h.strip():
                out.append((table, h.strip(), f"ice raw {release}"))
    return out


def joined_header(docs: Path) -> list[tuple[str, str, str]]:
    with open(docs / "uwchr-deport-data-proj" / "joined_df_wa.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    out = []
    for h in header:
        name, _, suffix = h.partition(".")
        tables = [JOINED_SUFFIXES[suffix]] if suffix in JOINED_SUFFIXES else (
            list(JOINED_SUFFIXES.values()) if h == "unique_identifier" else [])
        for t in tables:
            out.append((t, name, "ddp processed (joined_df_wa.csv)"))
    return out


def ero_lesa_headers(docs: Path) -> list[tuple[str, str, str]]:
    text = (docs / "PROVENANCE.md").read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^### uwchr-ice-enforce/aor-seattle-raw/(\S+)\.csv\.gz\n(.*?)(?=^### |\Z)", text,
                         re.DOTALL | re.MULTILINE):
        table = ERO_LESA_FILES.get(m.group(1))
        lists = re.findall(r"cols \(((?:'[^']*',?\s*)+)\)", m.group(2))
        if table is None or not lists:
            continue
        for name in re.findall(r"'([^']*)'", lists[0]):
            out.append((table, name, f"ice ero-lesa seattle ({m.group(1)})"))
    if not out:
        raise SystemExit("PROVENANCE.md: no aor-seattle-raw header lists found")
    return out


# --- build --------------------------------------------------------------------------------------------------

def build(docs: Path) -> list[dict[str, str]]:
    hand = hand_index()
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    order: list[tuple[str, str]] = []

    def add(table: str, name: str, note: str) -> None:
        k = (table, name)
        if k not in seen:
            order.append(k)
        seen[k].add(note)

    for t in CANONICAL_TABLES:
        for c in CANONICAL[t]:
            add(t, c, "canonical (icetrack.domain.person_schema.TABLES)")
    for source in (codebook_current, codebook_older, raw_headers, joined_header, ero_lesa_headers):
        for table, name, note in source(docs):
            add(table, name, note)
    for (t, _key), (_canonical, _why, name) in hand.items():
        add(t, name, "hand table")

    canonical_by_key = {t: {column_key(c): c for c in CANONICAL[t]} for t in CANONICAL_TABLES}
    rows, by_key = [], {}
    for table, name in order:
        key = column_key(name)
        if not key:
            continue
        notes = sorted(seen[(table, name)] - {"hand table"})
        if (table, key) in hand:
            canonical, why, _ = hand[(table, key)]
            notes = [why] + notes
        else:
            canonical = canonical_by_key[table].get(key, "")
        if canonical and canonical != WITHHELD and canonical not in CANONICAL[table]:
            raise SystemExit(f"{table}.{name}: {canonical} is not a canonical column")
        prev = by_key.setdefault((table, key), canonical)
        if prev != canonical:
            raise SystemExit(f"{table}: spellings of key {key!r} map to {prev!r} and {canonical!r}")
        if TITLE_TEXT.search(name):
            notes.append("not a column: title text the inventory took for a header (header below a title block)")
        fallback = any(n.startswith("hand: fallback") for n in notes)
        note = "; ".join(n.replace("hand: fallback; ", "hand: ") for n in notes)
        rows.append({"table": table, "source_column": name, "canonical_column": canonical,
                     "release_note": ("fallback; " if fallback else "") + note})
    rows.sort(key=lambda r: (CANONICAL_TABLES.index(r["table"]),
                             {"": 1, WITHHELD: 2}.get(r["canonical_column"], 0),
                             r["canonical_column"], r["source_column"].lower(), r["source_column"]))
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["table", "source_column", "canonical_column", "release_note"],
                       lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description="Build src/icetrack/data/ddp_crosswalk.csv from the DDP codebooks and FOIA headers.")
    ap.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="the shared data folder")
    ap.add_argument("--out", type=Path, default=CROSSWALK_PATH)
    ap.add_argument("--check", action="store_true", help="fail if the committed CSV is not what the docs give")
    args = ap.parse_args()
    text = to_csv(build(args.docs))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            sys.exit(f"{args.out} is out of date: run tools/build_crosswalk.py")
        print(f"{args.out} is up to date")
        return
    args.out.write_text(text, encoding="utf-8")
    n = text.count("\n") - 1
    print(f"wrote {args.out} ({n} rows)")


if __name__ == "__main__":
    main()
