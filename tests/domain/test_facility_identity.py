"""The facility identity rule: normalised names, the state qualifier, the curated renames file (checked on read) and
the rename candidates, which are listed and never merged."""

from __future__ import annotations

from datetime import date

import pytest

from icetrack.domain.facility_identity import (
    RENAME_COLUMNS,
    FacilityRenamesError,
    Identity,
    Span,
    city_keys,
    key_of,
    normalised_name,
    read_renames,
    rename_candidates,
)


@pytest.mark.parametrize("printed, state, expected", [
    ("Adams County Det Center", "MS", "ADAMS COUNTY DETENTION CENTER"),
    ("ADAMS COUNTY DET CENTER", "MS", "ADAMS COUNTY DETENTION CENTER"),
    ("Baker County Sheriff'S Office", "FL", "BAKER COUNTY SHERIFFS OFFICE"),
    ("ORANGE COUNTY JAIL (NY)", "NY", "ORANGE COUNTY JAIL"),
    ("CASCADE COUNTY JAIL, MT", "MT", "CASCADE COUNTY JAIL"),
    ("CASCADE COUNTY JAIL (MONTANA)", "MT", "CASCADE COUNTY JAIL"),
    ("LEHIGH COUNTY JAIL (PENNSYLVANIA)", "PA", "LEHIGH COUNTY JAIL"),
    ("ELIZABETH CONTRACT D.F.", "NJ", "ELIZABETH CONTRACT DETENTION FACILITY"),
    ("CORR. CTR OF NORTHWEST OHIO", "OH", "CORRECTIONAL CENTER OF NORTHWEST OHIO"),
    # a qualifier naming another state is part of the name, not a state
    ("PHELPS COUNTY JAIL (NE)", "MO", "PHELPS COUNTY JAIL NE"),
])
def test_normalised_names(printed, state, expected):
    assert normalised_name(printed, state) == expected


def test_ids_are_readable_slugs_with_the_state():
    assert key_of("ORANGE COUNTY JAIL (FL)", "FL").slug == "orange-county-jail-fl"
    assert key_of("ORANGE COUNTY JAIL", "NY").slug == "orange-county-jail-ny"
    assert key_of("IMPERIAL REGIONAL DETENTION FACILITY", None).slug == "imperial-regional-detention-facility-no-state"


def test_bundled_renames_join_a_chain_under_the_newest_name_and_keep_former_ids():
    identity = Identity()
    farmville = {identity.facility_id(n, "VA") for n in ("IMMIGRATION CENTERS OF AMERICA FARMVILLE", "ICA - Farmville",
                                                         "PRINCE EDWARD COUNTY (FARMVILLE)", "FARMVILLE DETENTION CENTER")}
    assert farmville == {"farmville-detention-center-va"}
    assert identity.aliases()["ica-farmville-va"] == "farmville-detention-center-va"
    # a name that came back (Torrance) is a merge: one id, no cycle
    assert identity.facility_id("TORRANCE/ESTANCIA, NM", "NM") == identity.facility_id(
        "TORRANCE COUNTY DETENTION FACILITY", "NM") == "torrance-county-detention-facility-nm"
    # renames never cross a state line: the same name elsewhere stays itself
    assert identity.facility_id("ADAMS COUNTY DET CENTER", "MS") == "adams-county-correctional-center-ms"
    assert identity.facility_id("ADAMS COUNTY DET CENTER", "WI") == "adams-county-detention-center-wi"
    assert {r.kind for r in identity.renames_into("farmville-detention-center-va")} == {"rename"}
    assert all(r.source_url.startswith("https://www.ice.gov/doclib/detention/") for r in identity.renames)


def _renames_file(tmp_path, *rows: str):
    path = tmp_path / "renames.csv"
    path.write_text("# comment\n" + ",".join(RENAME_COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


URL = "https://www.ice.gov/doclib/detention/FY26_detentionStats02022026.xlsx"


@pytest.mark.parametrize("rows, problem", [
    ([f"A JAIL,TX,B JAIL,TX,guess,FY26.xlsx,why,{URL}"], "kind 'guess'"),
    (["A JAIL,TX,B JAIL,TX,rename,FY26.xlsx,why,not a url"], "source_url"),
    ([f"A JAIL,TX,A JAIL,TX,merge,FY26.xlsx,why,{URL}"], "the same facility"),
    ([f"A JAIL,TX,B JAIL,TX,rename,FY26.xlsx,why,{URL}", f"B JAIL,TX,A JAIL,TX,rename,FY26.xlsx,why,{URL}"], "cycle"),
    ([f"A JAIL,TX,B JAIL,TX,rename,FY26.xlsx,why,{URL}", f"A JAIL,TX,C JAIL,TX,rename,FY26.xlsx,why,{URL}"],
     "already renamed"),
])
def test_a_bad_renames_file_is_refused_in_one_line(tmp_path, rows, problem):
    with pytest.raises(FacilityRenamesError) as err:
        read_renames(_renames_file(tmp_path, *rows))
    assert problem in str(err.value) and "\n" not in str(err.value)


def test_city_joins_the_identity_only_where_one_edition_lists_a_name_twice_in_a_state():
    rows = [("e1", "WASHINGTON COUNTY JAIL", "AR", "FAYETTEVILLE"), ("e1", "WASHINGTON COUNTY JAIL", "AR", "OTHERTOWN"),
            ("e1", "ORANGE COUNTY JAIL", "NY", "GOSHEN"), ("e2", "ORANGE COUNTY JAIL", "NY", "GOSHEN")]
    keys = city_keys(rows)
    assert keys == {("WASHINGTON COUNTY JAIL", "AR")}
    identity = Identity(renames=(), city_keys=keys)
    assert identity.facility_id("WASHINGTON COUNTY JAIL", "AR", "FAYETTEVILLE") != \
        identity.facility_id("WASHINGTON COUNTY JAIL", "AR", "OTHERTOWN")
    assert identity.facility_id("ORANGE COUNTY JAIL", "NY", "GOSHEN") == "orange-county-jail-ny"


def _span(fid: str, first: date, last: date, editions: set[str], city="BASILE", aor="NOL", state="LA") -> Span:
    return Span(fid, fid.upper(), state, city, aor, "DIGSA", first, last, frozenset(editions))


def test_rename_candidates_are_same_place_disjoint_in_time_and_unconfirmed():
    old = _span("south-louisiana-detention-center-la", date(2019, 10, 7), date(2024, 1, 12), {"a", "b"})
    new = _span("south-louisiana-ice-processing-center-la", date(2024, 10, 7), date(2026, 4, 2), {"c"})
    together = _span("basile-annex-la", date(2024, 1, 12), date(2025, 1, 1), {"b", "c"})
    elsewhere = _span("other-la", date(2025, 1, 1), date(2025, 2, 1), {"d"}, city="JENA")
    found = rename_candidates([old, new, together, elsewhere])
    assert [(c["old_id"], c["new_id"]) for c in found] == [
        ("south-louisiana-detention-center-la", "south-louisiana-ice-processing-center-la")]
    assert found[0]["status"] == "unconfirmed" and found[0]["gap_days"] == 269
