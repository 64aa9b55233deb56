"""Direct identifiers in person-level files: found by header name or value shape in every reader format,
refused by default with the columns named, dropped (never loaded anywhere) under
``IngestPolicy(drop_identifiers=True)``; the real public files flag nothing.

Every fixture is written in ``tmp_path`` and every value in it is made up.
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import TABLES
from icetrack.domain.plausible import IngestPolicy
from icetrack.sources import read_person_file
from icetrack.sources.canonical.crosswalk import WITHHELD, load_crosswalk
from icetrack.sources.canonical.identifiers import HEADER, header_rule, value_rule
from icetrack.sources.ddp import read_ddp

DROP = IngestPolicy(drop_identifiers=True)
N = 3  # rows per fixture

# --- the rules on their own -----------------------------------------------------------------------------------

FLAGGED_HEADERS = [
    "Full Name", "Name", "NAME", "First Name", "Last Name", "Middle Name", "Given Name", "Family Name", "Surname",
    "firstName", "last_name", "Alias", "AKA", "DOB", "Date of Birth", "dateOfBirth", "Birth Date", "birthdate",
    "Birth Month", "SSN", "Social Security Number", "social_security_no", "SS#", "Alien Number", "A-Number",
    "A Number", "A#", "anumber", "Alien Registration Number", "FBI Number", "FBI", "FINS", "FIN",
    "Fingerprint ID", "State ID", "SID", "Passport Number", "Passport #", "Driver's License", "Drivers Licence No",
    "License Plate", "Address", "Home Address", "Street", "Zip Code", "ZIP", "Postal Code", "Phone",
    "Telephone Number", "Cell Phone", "Email", "E-mail Address", "EID Subject ID", "Subject ID", "Person ID",
    "Booking Number", "Officer ID", "Officer Name",
]
# Names the releases (or icetrack's own synthetic files) legitimately carry, and near misses.
SPARED_HEADERS = [
    "unique_identifier", "anonymized_identifier", "Unique Identifier", "Unique Person Identifier",
    "hashed_subject_id", "birth_year", "Birth Year", "Year of Birth", "Numeric Birth Year", "birth_country",
    "Country of Birth", "Birth Country PER", "Detention Facility Address", "Detention Facility City",
    "facility_city", "Port ZIP", "Criminal Street Gang Yes No", "criminal_street_gang_yes_no", "Event Number",
    "Operation", "Removal Case COL", "Detention Facility Code Name", "Facility Name", "Eid Dt Entered Dt",
    "Book In Date Id", "Billing Aor Id", "passport_country", "final_order_date", "msc_charge_date",
    "Apprehension Landmark", "Port of Departure", "Biometric Match Yes No", "Fingerprinted Yes No",
    "Final Program", "date_diff", "n_dupe", "Case Number", "Name of Facility", "Arrest Created By",
]


def test_header_rule_flags_every_identifier_name():
    assert [h for h in FLAGGED_HEADERS if header_rule(h) != HEADER] == []


def test_header_rule_spares_the_releases_own_names():
    assert [h for h in SPARED_HEADERS if header_rule(h) is not None] == []


def test_header_rule_spares_every_column_the_crosswalk_keeps_in_extra():
    # the crosswalk's extra columns come from the real releases' headers: none may be refused by name
    kept = [e.source_column for e in load_crosswalk().entries if e.canonical_column == ""]
    assert len(kept) > 300
    assert [h for h in kept if header_rule(h)] == []


def text(values):
    return pa.array(values, pa.string())


def test_value_rule_shapes():
    cases = {
        ("col", ("123-45-6789", "987-65-4320", "001 23 4567")): "values look like SSNs",
        ("col", ("A123456789", "A-087-654-321", "a 12345678")): "values look like A-numbers",
        ("col", ("jane.doe@example.org", "x_y+z@mail.example.com", "Q@EXAMPLE.NET")): "values look like e-mail "
                                                                                       "addresses",
        ("col", ("(206) 555-0134", "206-555-0199", "+1 425.555.0100")): "values look like phone numbers",
        ("col", ("1234 Main St Apt 5", "77 N. Elm Avenue", "9 Old Mill Road, Yakima WA", "PO Box 12")):
            "values look like street addresses",
        ("birth", ("1985-03-02", "1990-12-31", "2001-01-01")): "values are full dates of birth",
        ("Born", ("3/2/1985", "12/31/1990", "1/1/2001")): "values are full dates of birth",
    }
    got = {k: value_rule(k[0], text(list(k[1]) + [None, ""])) for k in cases}
    assert got == cases


def test_value_rule_low_false_positives():
    hashes = [f"{i:040x}" for i in range(7, 12)]
    spared = {
        "hashes": hashes,  # the releases' anonymised identifiers
        "long ids": ["1234567890123456789", "0000000000000000001", "9999999999999999999"],
        "one SSN in five": ["123-45-6789", "x", "y", "z", "w"],  # 20% < SHARE
        "event dates": ["2024-01-05", "2024-02-01", "2024-03-09"],  # full dates, but not in a birth column
        "codes": ["212a6Ai", "237a2Aiii", "[8C] Excludable", "1 Convicted Criminal"],
        "counts": ["1", "2", "NA"],
        "blank": [None, None],
    }
    assert {k: value_rule(k, text(v)) for k, v in spared.items()} == dict.fromkeys(spared)
    # a birth column holding years or countries is not full dates of birth
    assert value_rule("birth_year", text(["1985", "1990"])) is None
    assert value_rule("birth_country", text(["MEXICO", "GUATEMALA"])) is None


# --- fixtures in every reader format --------------------------------------------------------------------------

# The identifier columns the issue lists, plus a few more, in two files (ERO-LESA and raw xlsx headers are
# found by content, so known names must stay at least half of a header).
HEADERS_1 = ["Full Name", "Name", "DOB", "SSN", "Social Security Number", "Alien Number", "Address",
             "FBI Number"]
HEADERS_2 = ["Passport Number", "A#", "Driver's License", "Phone", "Email", "Zip Code", "Alias", "FINS"]
# Neutrally named columns whose values give them away: (name, values, rule)
SHAPES = [
    ("col1", ["123-45-6789", "987-65-4320", "555-12-3456"], "values look like SSNs"),
    ("col2", ["A123456789", "A-087-654-321", "A12345678"], "values look like A-numbers"),
    ("col3", ["jane.doe@example.org", "j.roe@example.com", "q@example.net"], "values look like e-mail addresses"),
    ("col4", ["(206) 555-0134", "206-555-0199", "425.555.0100"], "values look like phone numbers"),
    ("col5", ["1234 Main St Apt 5", "77 N. Elm Avenue", "9 Old Mill Road"], "values look like street addresses"),
    ("birth", ["1985-03-02", "1990-12-31", "2001-01-01"], "values are full dates of birth"),
]
GROUPS = {
    "headers 1": [(h, [f"SECRET{k}{i}Q" for i in range(N)], HEADER) for k, h in enumerate(HEADERS_1)],
    "headers 2": [(h, [f"SECRET{k}{i}R" for i in range(N)], HEADER) for k, h in enumerate(HEADERS_2)],
    "values": SHAPES,
}
GENDERS = ["Male", "Female", "Male"]


def _ero(tmp_path: Path, cols, suffix: str) -> Path:
    """An ERO-LESA export (pipe-delimited, gzipped, title block above the header)."""
    known = {"Arrest Date": ["1/2/2012", "2/3/2013", "12/31/2018"], "Gender": GENDERS,
             "Country of Citizenship": ["MEXICO"] * N, "Event Number": ["(b)(7)e)"] * N,
             "Apprehension Landmark": ["SEA CAP"] * N, "Arrest Method": ["CAP Local Incarceration"] * N,
             "Most Serious Conviction": [""] * N, "Operation": [""] * N,
             "Processing Disposition": ["Other"] * N}
    table = {**known, **{name: values for name, values, _ in cols}}
    if "birth" in table:  # ERO-LESA prints M/D/YYYY
        table["birth"] = ["3/2/1985", "12/31/1990", "1/1/2001"]
    lines = ['"ERO-LESA Statistical Tracking Unit"||', "||",
             '"FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019) ERO Administrative Arrests"||',
             "|".join(f'"{h}"' for h in table)]
    lines += ["|".join(f'"{table[h][i]}"' if table[h][i] else "" for h in table) for i in range(N)]
    p = tmp_path / f"arrests{suffix}"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return p


def _processed(cols) -> dict[str, list]:
    return {"unique_identifier": [f"{i:040x}" for i in range(N)],
            "apprehension_date": ["2024-01-05", "2024-02-06", "2024-03-07"], "gender": GENDERS,
            **{name: values for name, values, _ in cols}}


def _write_csv(path: Path, table: dict[str, list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(table))
        w.writerows(zip(*table.values()))
    return path


def _xlsx(tmp_path: Path, cols) -> Path:
    import openpyxl

    known = {"Apprehension Date": [datetime(2024, 1, 5 + i, 9, 30) for i in range(N)],
             "Unique Identifier": [f"{i:040x}" for i in range(N)], "Gender": GENDERS,
             "Citizenship Country": ["MEXICO"] * N, "Apprehension State": ["WASHINGTON"] * N,
             "Apprehension AOR": ["Seattle Area of Responsibility"] * N,
             "Apprehension Criminality": ["1 Convicted Criminal"] * N, "Final Order Yes No": ["NO"] * N,
             "Apprehension Site Landmark": ["SEA CAP"] * N}
    table = {**known, **{name: values for name, values, _ in cols}}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for t in ["ERO-LESA Statistical Tracking Unit", None, "ERO Administrative Arrests (09/01/2023 - 07/28/2025)"]:
        ws.append([t] if t else [])
    ws.append(list(table))
    for i in range(N):
        ws.append([table[h][i] for h in table])
    p = tmp_path / "ERO Admin Arrests_raw.xlsx"
    wb.save(p)
    return p


def write_fixture(fmt: str, tmp_path: Path, cols) -> Path:
    if fmt in ("ero .csv.gz", "ero .txt.gz"):
        return _ero(tmp_path, cols, fmt.split()[1])
    if fmt == "ddp csv":
        return _write_csv(tmp_path / "arrests.csv", _processed(cols))
    if fmt == "parquet":
        p = tmp_path / "arrests.parquet"
        pq.write_table(pa.table(_processed(cols)), p)
        return p
    if fmt == "feather":
        p = tmp_path / "arrests.feather"
        feather.write_feather(pa.table(_processed(cols)), p)
        return p
    if fmt == "xlsx":
        return _xlsx(tmp_path, cols)
    if fmt == "joined":
        table = {"unique_identifier": [f"{i:040x}" for i in range(N)],
                 "apprehension_date.arrest": ["2024-01-05", "2024-02-06", "2024-03-07"], "gender.arrest": GENDERS,
                 **{f"{name}.arrest": values for name, values, _ in cols}}
        return _write_csv(tmp_path / "joined_wa.csv", table)
    raise AssertionError(fmt)


FORMATS = ["ero .csv.gz", "ero .txt.gz", "ddp csv", "parquet", "feather", "xlsx", "joined"]


def expected(fmt: str, cols) -> dict[str, str]:
    return {(f"{name}.arrest" if fmt == "joined" else name): rule for name, _, rule in cols}


def refusal(path: Path, flagged: dict[str, str]) -> str:
    listed = "; ".join(f"{c}: {r}" for c, r in flagged.items())
    return (f"{path.name}: refused: columns look like direct identifiers ({listed}); icetrack stores no "
            "identifying data; load without them with --drop-identifiers")


def cells(batches) -> set[str]:
    """Every text a batch holds: string cells, extra keys and extra values."""
    out: set[str] = set()
    for _, b in batches:
        for f in b.schema:
            col = b.column(f.name)
            if f.name == "extra":
                out.update(col.keys.to_pylist())
                out.update(col.items.to_pylist())
            elif pa.types.is_string(f.type):
                out.update(v for v in col.to_pylist() if v is not None)
    return out


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_identifier_columns_refused_by_default(tmp_path, fmt, group):
    cols = GROUPS[group]
    p = write_fixture(fmt, tmp_path, cols)
    if group == "values":
        # the values are seen on the first batch: the release opens, its first batch is refused
        rel = read_person_file(p)
        with pytest.raises(SourceError) as e:
            next(iter(rel.batches))
    else:
        # the header gives them away: refused before a row is read
        with pytest.raises(SourceError) as e:
            read_person_file(p)
    assert str(e.value) == refusal(p, expected(fmt, cols))


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_identifier_columns_dropped_with_the_policy(tmp_path, fmt, group):
    cols = GROUPS[group]
    p = write_fixture(fmt, tmp_path, cols)
    rel = read_person_file(p, policy=DROP)
    batches = list(rel.batches)
    assert [t for t, _ in batches] == ["arrests"] and batches[0][1].schema.equals(TABLES["arrests"])
    rows = pa.Table.from_batches([b for _, b in batches])
    assert rows.num_rows == N and rows.column("gender").to_pylist() == GENDERS  # the rest is loaded
    assert rel.report.dropped_identifiers == expected(fmt, cols)
    # no value of a dropped column anywhere: not in extra, not in any column, not in the report
    values = {v for _, vs, _ in cols for v in vs} | {"3/2/1985", "12/31/1990", "1/1/2001"}
    held = cells(batches)
    assert held & values == set()
    assert not any(v in repr(rel.report) for v in values)
    assert not set(rel.report.unknown_columns.get("arrests", [])) & set(expected(fmt, cols))
    # the warning names the columns (and rules), never a value
    (warning,) = [w for w in rel.report.warnings if "direct identifiers" in w]
    assert warning == (f"{len(cols)} column(s) that look like direct identifiers were not loaded "
                       "(--drop-identifiers): " + ", ".join(f"{c} ({r})" for c, r in expected(fmt, cols).items()))


def test_policy_set_on_a_release_read_directly(tmp_path):
    # the ingest may call a reader itself and set release.policy before iterating
    p = write_fixture("parquet", tmp_path, GROUPS["headers 1"])
    rel = read_ddp(p)  # the reader does not refuse: the release does, when its batches start
    with pytest.raises(SourceError, match="refused: columns look like direct identifiers"):
        next(iter(rel.batches))
    rel = read_ddp(p)
    rel.policy = DROP
    assert sum(b.num_rows for _, b in rel.batches) == N
    assert list(rel.report.dropped_identifiers) == HEADERS_1


def test_check_policy_refuses_before_any_batch(tmp_path):
    p = write_fixture("ddp csv", tmp_path, GROUPS["headers 2"])
    rel = read_ddp(p)
    with pytest.raises(SourceError) as e:
        rel.check_policy()
    assert str(e.value) == refusal(p, expected("ddp csv", GROUPS["headers 2"]))
    rel.policy = DROP
    rel.check_policy()  # nothing left to refuse


def test_mostly_ordinary_column_is_kept(tmp_path):
    # one phone-shaped value among five is not enough to call a column an identifier (low false positives)
    notes = ["SEE FILE", "206-555-0134", "NONE", "TRANSFERRED", "NONE"]
    table = {"unique_identifier": [f"{i:040x}" for i in range(5)], "apprehension_date": ["2024-01-05"] * 5,
             "notes": notes, "case_ref": [f"{i:040x}" for i in range(10, 15)]}
    rel = read_person_file(_write_csv(tmp_path / "arrests.csv", table))
    got = pa.Table.from_batches([b for _, b in rel.batches])
    assert [dict(m)["notes"] for m in got.column("extra").to_pylist()] == notes
    assert rel.report.dropped_identifiers == {}


def test_typed_birth_dates_in_parquet(tmp_path):
    # a typed date column whose name speaks of birth: its values are full dates of birth
    t = pa.table({"unique_identifier": ["a1", "a2"], "apprehension_date": ["2024-01-05", "2024-01-06"],
                  "birth": pa.array([date(1985, 3, 2), date(1990, 12, 31)], pa.date32()),
                  "birth_year": pa.array([1985, 1990], pa.int64())})
    p = tmp_path / "arrests.parquet"
    pq.write_table(t, p)
    with pytest.raises(SourceError, match=r"\(birth: values are full dates of birth\)"):
        list(read_person_file(p).batches)
    rel = read_person_file(p, policy=DROP)
    got = pa.Table.from_batches([b for _, b in rel.batches])
    assert got.column("birth_year").to_pylist() == [1985, 1990]  # a year alone is loaded
    assert all(m == [] for m in got.column("extra").to_pylist())


def test_column_flagged_on_one_sheet_is_dropped_on_every_sheet(tmp_path):
    import openpyxl

    p = _xlsx(tmp_path, [SHAPES[0]])
    wb = openpyxl.load_workbook(p)
    ws2 = wb.copy_worksheet(wb["Sheet1"])
    ws2.title = "Sheet2"
    for r in range(5, 5 + N):  # on this sheet the column holds ordinary text
        ws2.cell(row=r, column=ws2.max_column, value=f"NOTE{r}")
    wb.save(p)
    rel = read_person_file(p, policy=DROP)
    held = cells(list(rel.batches))
    assert rel.report.dropped_identifiers == {"col1": "values look like SSNs"}
    assert held & ({f"NOTE{r}" for r in range(5, 5 + N)} | set(SHAPES[0][1])) == set()


# --- the real public files ------------------------------------------------------------------------------------

REAL_PERSON_FILES = [f"uwchr-ice-enforce/aor-seattle-raw/{n}" for n in (
    "arrests.csv.gz", "bookins.csv.gz", "expedited-removals.csv.gz", "other-removals.csv.gz",
    "CAP-FY2017-arrests.csv.gz", "CAP-FY2017-encounters.csv.gz", "CAP-FY2017-removals.csv.gz",
    "CAP-FY2018-arrests.csv.gz", "CAP-FY2018-encounters.csv.gz", "CAP-FY2018-removals.csv.gz")] + [
    "uwchr-deport-data-proj/joined_df_wa.csv"]


def test_real_person_files_flag_nothing(shared_data):
    found = {}
    for name in REAL_PERSON_FILES:
        rel = read_person_file(shared_data / name)  # the default policy: a flagged column would raise
        rows = sum(b.num_rows for _, b in rel.batches)
        found[name] = (rows > 0, rel.report.dropped_identifiers, rel.report.implausible_dates)
    assert found == {name: (True, {}, {}) for name in REAL_PERSON_FILES}


def test_real_raw_header_inventory(shared_data):
    """The header rule over the raw headers of the Deportation Data Project's 239 FOIA files: every name it
    matches is one the crosswalk already withholds, except the officers' ids of the RCA decision files
    (not a table icetrack reads), which are rightly matched."""
    import fastexcel

    cols = fastexcel.read_excel(str(shared_data / "deportationdata-org-docs" / "data_column_names.xlsx")).load_sheet(
        0, dtypes="string").to_arrow().to_pydict()
    heads = defaultdict(set)
    for i in range(len(cols["path"])):
        for c in cols:
            if c.isdigit() and cols[c][i] and cols[c][i].strip():
                heads[cols[c][i].strip()].add(cols["path"][i])
    cw = load_crosswalk()
    matched = {h for h in heads if header_rule(h)}
    withheld = {h for h in matched if any((e := cw.lookup(t, h)) and e.canonical_column == WITHHELD for t in TABLES)}
    assert len(matched) > 25
    assert {h: sorted(heads[h]) for h in matched - withheld} == {
        h: ["ice/rca/2023_ICFO_42034"] for h in ("OFFICER ID", "OFFICER_ID", "SUPERVISOR ID", "SUPERVISOR_ID")}
