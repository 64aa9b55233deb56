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
    rows = {r["measure"]: r for r in loaded.json("measures")}
    # The FY2022 year-end bond table covers the prior 12 months plus the current one: Sep 2021 - Sep 2022. The
    # 04/09/2026 edition prints its FY2025 months as 0 (not stored): only October 2025 on.
    assert rows["average_bond_amount"]["fiscal_years"] == [2021, 2022, 2026]
    assert rows["average_bond_amount"]["unit"] == "US dollars"
    # Semiannual tables count every fiscal year since FY2018.
    assert rows["arrests_by_group"]["fiscal_years"][0] == 2018
    assert rows["removals_famu_fytd"]["fiscal_years"] == [2026]  # not published in FY2022
    assert "FAMU" in rows["removals_famu_fytd"]["definition"]
    assert rows["segregated_individuals"]["n_editions"] == 1
    # The bundled national subset of every other edition is loaded too: book-ins since FY2019.
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
