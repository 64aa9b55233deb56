"""`icetrack measures` (every loaded measure with its definition and fiscal years) and `icetrack editions
--tables` (which tables the loaded workbook editions carry), on two of ICE's real workbooks
(https://www.ice.gov/detain/detention-management)."""

from __future__ import annotations

import pytest

FILES = ("FY22-detentionStats.xlsx", "FY26_detentionStats_04092026.xlsx")


@pytest.fixture
def loaded(icetrack, shared_data):
    icetrack("ingest", *(str(shared_data / "ice-detention-stats" / name) for name in FILES))
    return icetrack


def test_measures_lists_the_new_tables_with_their_fiscal_years(loaded):
    # Two workbooks ingested from their files; the bundled national figures of the other 28 editions load too.
    rows = {r["measure"]: r for r in loaded.json("measures")}
    # Bond statistics since the FY2022 year-end edition, whose table covers the prior 12 months plus the current
    # one (Sep 2021 - Sep 2022).
    assert rows["average_bond_amount"]["fiscal_years"] == [2021, 2022, 2023, 2024, 2025, 2026]
    assert (rows["average_bond_amount"]["unit"], rows["average_bond_amount"]["n_editions"]) == ("US dollars", 25)
    # Semiannual tables count every fiscal year since FY2018; FY2026 editions print FY2025 as zeros (not stored).
    assert rows["arrests_by_group"]["fiscal_years"] == list(range(2018, 2026))
    assert rows["removals_famu_fytd"]["fiscal_years"] == [2024, 2025, 2026]  # first published in January 2024
    assert "FAMU" in rows["removals_famu_fytd"]["definition"]
    assert rows["segregated_individuals"]["n_editions"] == 24
    assert rows["book_ins"]["fiscal_years"] == list(range(2019, 2027))
    csv = loaded("measures", "--csv").stdout.splitlines()
    assert csv[0].startswith("measure,label,concept,unit,grain,fiscal_years")


def test_editions_tables_says_which_edition_carries_which_table(loaded):
    rows = {r["table"]: r for r in loaded.json("editions", "--tables")}
    assert rows["ICE Initial Book-Ins by Arresting Agency and Month"]["fiscal_years"] == [2022, 2026]
    famu = rows["Removals with a FAMU Identifier"]
    assert (famu["fiscal_years"], famu["n_editions"], famu["of_editions"]) == ([2026], 1, 2)
    segregation = rows["Monthly Segregation: individuals in segregation by facility and month"]
    assert (segregation["sheet"], segregation["absent_from"]) == ("FY26 Monthly Segregation", [])
    assert rows["Facilities"]["n_editions"] == 2
