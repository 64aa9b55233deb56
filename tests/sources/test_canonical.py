"""The canonicalisation the person-level readers share: the column crosswalk (checked against the Deportation
Data Project's column inventory, https://deportationdata.org/docs/ice/codebook.html), redaction markers and
title cut-off dates.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from datetime import date
from pathlib import Path

from helpers import REPO

from icetrack.domain.person_schema import EVENT_DATE, TABLES
from icetrack.sources.canonical.crosswalk import CROSSWALK_PATH, WITHHELD, column_key, load_crosswalk
from icetrack.sources.canonical.release import title_cutoff
from icetrack.sources.canonical.values import is_redacted


# --- crosswalk ------------------------------------------------------------------------------------------------


def crosswalk_rows():
    with open(CROSSWALK_PATH, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_crosswalk_shape_and_examples():
    rows = crosswalk_rows()
    assert rows and set(rows[0]) == {"table", "source_column", "canonical_column", "release_note"}
    for r in rows:
        assert r["table"] in TABLES
        assert r["canonical_column"] in ("", WITHHELD) or r["canonical_column"] in TABLES[r["table"]].names
    cw = load_crosswalk()
    examples = [
        ("arrests", "anonymized_identifier", "unique_identifier"),
        ("arrests", "toa_current_duty_aor", "apprehension_aor"),
        ("arrests", "Apprehension Date", "apprehension_date"),
        ("arrests", "Area of Responsibility", "apprehension_aor"),
        ("arrests", "Arrest Date", "apprehension_date"),
        ("arrests", "Arrest Method", "apprehension_method"),
        ("arrests", "Apprehension Landmark", "apprehension_landmark"),
        ("arrests", "Processing Disposition", "processing_disposition"),
        ("arrests", "Country of Citizenship", "citizenship_country"),
        ("detainers", "Prepare Date", "detainer_prepare_date"),
        ("detention_stints", "Book In Date Time", "book_in_date_time"),
        ("detention_stints", "Book In Date", "book_in_date_time"),
        ("detention_stints", "Detention Facility", "detention_facility"),
        ("detention_stints", "Apprehension Method", "apprehension_method"),
        ("detention_stints", "Most Serious Conviction", "most_serious_conviction"),
        ("removals", "Departed Date", "departed_date"),
        ("removals", "Case Category", "case_category"),
        ("removals", "Final Charge Section", "final_charge_section"),
        ("removals", "Gender", "gender"),
        ("encounters", "Event Area of Responsibility", "responsible_aor"),
        ("encounters", "Landmark", "event_landmark"),
    ]
    for table, source, canonical in examples:
        assert cw.maps(table, source) == canonical, (table, source)
    # case / space / punctuation insensitive
    assert cw.maps("arrests", "  APPREHENSION-aor ") == "apprehension_aor"
    assert column_key("Most Serious Conviction (MSC) Charge") == "mostseriousconvictionmsccharge"
    # known columns without a canonical home, and withheld identifiers
    assert cw.lookup("arrests", "Event Number").canonical_column == ""
    assert cw.lookup("removals", "Removal Case COL").canonical_column == ""
    assert cw.lookup("arrests", "Date of Birth").canonical_column == WITHHELD
    assert cw.lookup("arrests", "Alien File Number").canonical_column == WITHHELD
    assert cw.lookup("detention_stints", "Book In Date").fallback


def _raw_headers(shared_data: Path):
    import fastexcel

    cols = fastexcel.read_excel(str(shared_data / "deportationdata-org-docs" / "data_column_names.xlsx")).load_sheet(
        0, dtypes="string").to_arrow().to_pydict()
    types = {"arrests": "arrests", "detainers": "detainers", "detentions": "detention_stints",
             "encounters": "encounters", "removals": "removals"}
    files = []
    for i in range(len(cols["path"])):
        parts = (cols["path"][i] or "").split("/")
        if len(parts) >= 3 and parts[0] == "ice" and parts[1] in types:
            heads = [cols[c][i].strip() for c in cols if c.isdigit() and cols[c][i] and cols[c][i].strip()]
            files.append((cols["name"][i], types[parts[1]], parts[2], heads))
    return files


def test_crosswalk_covers_every_raw_header(shared_data):
    cw = load_crosswalk()
    files = _raw_headers(shared_data)
    assert len(files) == 95
    pairs = {(t, h) for _, t, _, heads in files for h in heads}
    unlisted = sorted(p for p in pairs if cw.lookup(*p) is None)
    assert unlisted == []  # every header is in the crosswalk: mapped, kept in extra, or withheld
    status = {p: cw.lookup(*p).canonical_column for p in pairs}
    mapped = sorted(p for p, c in status.items() if c not in ("", WITHHELD))
    extra = sorted(p for p, c in status.items() if c == "")
    withheld = sorted(p for p, c in status.items() if c == WITHHELD)
    assert (len(pairs), len(mapped), len(extra), len(withheld)) == (448, 104, 301, 43)
    assert len(mapped) / len(pairs) >= 0.23  # the canonical schema is narrow: most raw fields go to extra
    # every file's event date maps, except the 11 files of 14-03290 whose inventory row holds title text
    no_date = sorted({rel for _, t, rel, heads in files if EVENT_DATE[t] not in {cw.maps(t, h) for h in heads}})
    assert no_date == ["14-03290"]
    # every canonical column of every table has a raw source in at least one release
    sources = defaultdict(set)
    for _, t, rel, heads in files:
        for h in heads:
            c = cw.maps(t, h)
            if c:
                sources[(t, c)].add(rel)
    missing = sorted((t, c) for t in TABLES for c in TABLES[t].names
                     if c not in {"release_id", "edition_id", "source_file", "source_sheet", "source_row",
                                  "synthetic", "extra", "removal_type"} and not sources[(t, c)])
    # (detention_stints.apprehension_method comes only from the ERO-LESA book-ins, not in the inventory)
    assert missing == [("detention_stints", "apprehension_method")]
    # identifiers map in every release that has one (the older UWCHR / NPR / 2019 / 14-03290 files have none)
    no_id = sorted({(t, rel) for _, t, rel, heads in files if "unique_identifier" not in {cw.maps(t, h)
                                                                                          for h in heads}})
    assert no_id == [("arrests", "uwchr"), ("detainers", "npr"), ("detention_stints", "2019-ICFO-21307"),
                     ("encounters", "uwchr"), ("removals", "14-03290"), ("removals", "uwchr")]


def test_crosswalk_is_what_the_docs_give(shared_data):
    spec = importlib.util.spec_from_file_location("build_crosswalk", REPO / "tools" / "build_crosswalk.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.to_csv(mod.build(shared_data)) == CROSSWALK_PATH.read_text(encoding="utf-8")


# --- small helpers --------------------------------------------------------------------------------------------


def test_redaction_marker_variants():
    for v in ["(b)(6),(b)(7)c)", "(b)(7)e)", "(b)(7)(E )", "(b)(6),(b)(7)(c )", "(b)(6), (b)(7)(c)",
              "b(6), b(7)c", "(b)(6), (b)(7)(c) (b)(7)(e)", " (B)(6) "]:
        assert is_redacted(v), v
    for v in ["INA 241(b)(3)", "212a6Ai", "Not  Applicable", "", None, "(a)(6)"]:
        assert not is_redacted(v), v


def test_title_cutoff():
    assert title_cutoff("FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019) ERO Administrative Arrests") == date(2019, 7, 6)
    assert title_cutoff("FY2018 YTD ERO Encounters ... through 04/27/2018") == date(2018, 4, 27)
    assert title_cutoff("FY2017 ERO Administrative Arrests") is None
