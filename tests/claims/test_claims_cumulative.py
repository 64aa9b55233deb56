"""Cumulative claims ("at least N since DATE", "N in the first K days") read against ICE-arrested book-ins (a
lower bound on ICE arrests) and against ICE arrests estimated from them: hand-computed figures, every verdict
outcome, missing days, malformed windows, and the bundled statements on the bundled figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from icetrack.claims import ClaimsFileError, check_claims, load_claims, parse_claims
from icetrack.sources import parse_file
from icetrack.warehouse import open_warehouse

HEADER = "date,period_end,measure,value,unit,source_url,dim_agency"
WORKBOOK = "https://example.org/workbook"
REPORT = "https://example.org/annual-report"
# The bridge's fiscal years, with ICE-arrested book-ins spread evenly over twelve months and 120,000 ERO
# arrests each: shares booked in of 0.8 (FY2019), 0.5 (FY2023) and 0.625 (FY2024, the central one). So the
# estimate is book-ins x 1.6, its interval book-ins x 1.25 to book-ins x 2.
SHARES = {2019: 8_000, 2023: 5_000, 2024: 6_250}
ARRESTS_PER_YEAR = 120_000
# Test months in 2013, years before any bridge year: March 3,100 (100 a day), April 6,000 (200 a day); May's
# edition is as of May 10 and holds 1,000 book-ins for May 1-10 (100 a day), so May 11 onwards has no figure.
MONTHS = [("2013-03-01", "2013-03-31", 3100), ("2013-04-01", "2013-04-30", 6000)]
MAY = "2013-05-01,2013-05-31,book_ins,1000,book-ins,https://example.org/workbook-may,ICE"
CENTRAL, HIGH, LOW = 1 / 0.625, 1 / 0.5, 1 / 0.8  # estimate per book-in: central, interval's top and bottom


def _month_ends(fy: int) -> list[tuple[str, str]]:
    import calendar

    out = []
    for year, month in [(fy - 1, m) for m in (10, 11, 12)] + [(fy, m) for m in range(1, 10)]:
        last = calendar.monthrange(year, month)[1]
        out.append((f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}"))
    return out


def _figures(with_shares: bool = True) -> str:
    rows = [HEADER] + [f"{a},{b},book_ins,{v},book-ins,{WORKBOOK},ICE" for a, b, v in MONTHS]
    for fy, per_month in SHARES.items() if with_shares else ():
        rows += [f"{a},{b},book_ins,{per_month},book-ins,{WORKBOOK},ICE" for a, b in _month_ends(fy)]
        rows.append(f"{fy - 1}-10-01,{fy}-09-30,ero_administrative_arrests,{ARRESTS_PER_YEAR},arrests,{REPORT},")
    return "\n".join(rows) + "\n"


def _warehouse(folder: Path, with_shares: bool = True) -> Path:
    (folder / "figures.csv").write_text(_figures(with_shares))
    (folder / "may.csv").write_text(HEADER + ",as_of\n" + MAY + ",2013-05-10\n")
    path = folder / "wh.duckdb"
    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many([parse_file(folder / "figures.csv"), parse_file(folder / "may.csv")])
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return _warehouse(tmp_path_factory.mktemp("cumulative"))


def _entry(cid: str, window: str, comparison: str, metric: str = "arrests.ero_administrative",
           extra: str = "") -> str:
    fields = [f"id: {cid}", f"text: test claim {cid}", "outlet: test", "published_on: 2013-06-01",
              f"url: https://example.org/{cid}", f"metric: {metric}", "statistic: cumulative",
              f"window: {window}", f"comparison: {comparison}", *extra.splitlines()]
    return "  - " + "\n    ".join(fields) + "\n"


def _yaml(*entries: str) -> str:
    return "format: icetrack-claims/1\nclaims:\n" + "".join(entries)


def _check(path: Path, *entries: str) -> dict[str, dict]:
    with open_warehouse(path, read_only=True) as wh:
        return {v["id"]: v for v in check_claims(wh, parse_claims(_yaml(*entries), "c.yaml"))}


MARCH_TO_APRIL_10 = "{start: 2013-03-01, end: 2013-04-10}"
B_MARCH_TO_APRIL_10 = 3100 + 10 * 200  # all of March, 10 of April's 30 days at 200 a day


def test_a_whole_month_and_part_of_the_next_are_prorated_by_days(warehouse):
    v = _check(warehouse, _entry("a", MARCH_TO_APRIL_10, "{op: at_least, value: 5000}"))["a"]
    arrests, book_ins = v["evidence"]
    assert (book_ins["role"], book_ins["metric"]) == ("lower_bound", "book_ins.ice_arrested@1")
    assert book_ins["value"] == pytest.approx(B_MARCH_TO_APRIL_10) and book_ins["kind"] == "estimate"
    months = {o["period_start"]: (o["value"], o["days_covered"], o["days_in_window"], o["weight"])
              for o in book_ins["observations"]}
    assert months == {"2013-03-01": (3100, 31, 31, 1.0), "2013-04-01": (6000, 30, 10, pytest.approx(1 / 3, abs=1e-6))}
    assert book_ins["coverage"]["months"] == ["2013-03: 3,100, the whole month",
                                              "2013-04: 6,000 / 30 days x 10 days in the window = 2,000"]
    assert (book_ins["coverage"]["days_covered"], book_ins["coverage"]["missing"]) == (41, "")
    assert (arrests["role"], arrests["metric"]) == ("speaker", "arrests.ero_administrative@1")
    assert arrests["value"] == pytest.approx(B_MARCH_TO_APRIL_10 * CENTRAL)  # 8,160
    assert arrests["coverage"]["interval"] == [pytest.approx(B_MARCH_TO_APRIL_10 * LOW),  # 6,375
                                               pytest.approx(B_MARCH_TO_APRIL_10 * HIGH)]  # 10,200
    assert arrests["coverage"]["share_interval"] == [0.5, 0.8] and arrests["coverage"]["central_share"] == 0.625
    assert arrests["coverage"]["bridge"] == "arrests.from_book_ins@1"
    assert arrests["summary"] == "about 8,160 (6,375-10,200)"
    assert "2013-04: 6,000 / 30 days x 10 days in the window = 2,000" in v["explanation"]


@pytest.mark.parametrize("comparison, verdict, outcomes, true_if", [
    # 5,100 book-ins already reach 5,000: true even by the lower bound
    ("{op: at_least, value: 5000}", "supported", ("supported", "supported"),
     "True even by the lower bound: the 5,100 ICE-arrested book-ins alone meet it"),
    # book-ins fall short, the estimate's whole interval (6,375-10,200) reaches 6,000
    ("{op: at_least, value: 6000}", "depends on definition", ("supported", "contradicted"),
     "True only if 'arrests' counts every ERO administrative arrest, not only those booked into detention: the "
     "estimate's whole interval (6,375-10,200) meets it, the 5,100 ICE-arrested book-ins do not."),
    # 9,000 lies inside the interval: true only if at least 1 - 5,100 / 9,000 = 43.3% were not booked in
    ("{op: at_least, value: 9000}", "not checkable", ("inconclusive", "contradicted"),
     "Undetermined, possible only within the estimate's interval (6,375-10,200): true only if 'arrests' counts "
     "every ERO administrative arrest and at least 43.3% of them were not booked into detention (the shares "
     "used put that at 20.0%-50.0%)."),
    # even the interval's top (10,200) is below 11,000
    ("{op: at_least, value: 11000}", "contradicted", ("contradicted", "contradicted"),
     "Not supported by any reading: 5,100 ICE-arrested book-ins, and the estimate's interval is 6,375-10,200."),
    # at most 5,000: the book-ins alone exceed it, and arrests are at least the book-ins
    ("{op: at_most, value: 5000}", "contradicted", ("contradicted", "contradicted"), "Not supported by any reading"),
    # about 8,000 (7,600-8,400): not booked in between 1 - 5,100 / 7,600 and 1 - 5,100 / 8,400
    ("{op: approximately, value: 8000, tolerance: '5%'}", "not checkable", ("inconclusive", "contradicted"),
     "between 32.9% and 39.3% of them were not booked into detention"),
])
def test_each_reading_of_an_at_least_claim(warehouse, comparison, verdict, outcomes, true_if):
    v = _check(warehouse, _entry("c", MARCH_TO_APRIL_10, comparison))["c"]
    assert v["verdict"] == verdict
    assert tuple(e["outcome"] for e in v["evidence"]) == outcomes
    assert true_if in v["true_if"] and v["true_if"] in v["explanation"]


def test_the_first_k_days(warehouse):
    v = _check(warehouse, _entry("k", "{start: 2013-03-20, days: 15}", "{op: at_least, value: 1}"))["k"]
    assert v["window"] == {"start": "2013-03-20", "end": "2013-04-03", "days": 15}
    arrests, book_ins = v["evidence"]
    assert book_ins["value"] == pytest.approx(12 * 100 + 3 * 200)  # March 20-31 and April 1-3
    assert book_ins["coverage"]["months"] == ["2013-03: 3,100 / 31 days x 12 days in the window = 1,200",
                                              "2013-04: 6,000 / 30 days x 3 days in the window = 600"]
    assert arrests["value"] == pytest.approx(1800 * CENTRAL)
    assert arrests["coverage"]["interval"] == [pytest.approx(1800 * LOW), pytest.approx(1800 * HIGH)]
    assert "over 2013-03-20..2013-04-03 (the first 15 days)" in v["explanation"]
    assert v["verdict"] == "supported"


def test_days_without_a_figure_are_missing_not_zero(warehouse):
    window = "{start: 2013-04-25, end: 2013-05-20}"  # April 25-30, May 1-10 covered; May 11-20 not yet
    v = _check(warehouse, _entry("gap", window, "{op: at_least, value: 3000}"),
               _entry("enough", window, "{op: at_least, value: 2000}"))
    arrests, book_ins = v["gap"]["evidence"]
    assert book_ins["value"] == pytest.approx(6 * 200 + 10 * 100) and book_ins["kind"] == "lower_bound"
    assert book_ins["coverage"]["days_covered"] == 16 and book_ins["coverage"]["days_in_window"] == 26
    assert book_ins["coverage"]["missing"] == "2013-05-11..2013-05-20"
    assert "2013-05: 1,000 / 10 days its figure covers x 10 days in the window = 1,000" in book_ins["coverage"]["months"]
    # the estimate of the covered days (3,520; at least 2,750) is a lower bound too: 3,000 stays open
    assert arrests["value"] == pytest.approx(2200 * CENTRAL) and arrests["kind"] == "lower_bound"
    assert (arrests["outcome"], book_ins["outcome"], v["gap"]["verdict"]) == ("inconclusive", "inconclusive",
                                                                              "not checkable")
    assert v["gap"]["true_if"].startswith("Incomplete: no ICE-arrested book-ins figure for 2013-05-11..2013-05-20 "
                                          "yet (those days are not counted as zero)")
    assert "figures for 2013-05-11..2013-05-20" in v["gap"]["settled_by"][0]
    # 2,200 book-ins counted so far already reach 2,000, whatever the missing days hold
    assert v["enough"]["verdict"] == "supported"
    assert v["enough"]["true_if"].startswith("Incomplete") and "True even by the lower bound" in v["enough"]["true_if"]


def test_without_the_bridge_arrests_are_still_at_least_the_book_ins(tmp_path):
    path = _warehouse(tmp_path, with_shares=False)
    v = _check(path, _entry("lo", MARCH_TO_APRIL_10, "{op: at_least, value: 5000}"),
               _entry("hi", MARCH_TO_APRIL_10, "{op: at_least, value: 6000}"))
    arrests = v["lo"]["evidence"][0]
    assert (arrests["value"], arrests["kind"]) == (pytest.approx(5100), "lower_bound")
    assert "no estimate: the bridge arrests.from_book_ins@1 needs FY2024's" in arrests["reason"]
    assert v["lo"]["verdict"] == "supported"
    assert v["hi"]["verdict"] == "not checkable"
    assert "no estimate (the bridge's shares are not loaded)" in v["hi"]["true_if"]


@pytest.mark.parametrize("window, extra, problem", [
    ("{start: 2013-03-01, days: 0}", "", "window days 0 must be a whole number of days, at least 1"),
    ("{start: 2013-03-01, days: -3}", "", "window days -3 must be a whole number of days, at least 1"),
    ("{start: 2013-03-01, days: 1.5}", "", "window days 1.5 must be a whole number of days, at least 1"),
    ("{start: 2013-03-01, days: true}", "", "window days True must be a whole number of days, at least 1"),
    ("{start: 2013-03-10, end: 2013-03-01}", "", "window is inverted: start 2013-03-10 is after end 2013-03-01"),
    ("{start: 2013-03-01, end: 2013-03-10, days: 10}", "",
     "window must be a mapping with start and either end or days"),
    ("{start: 9999-12-01, days: 100}", "", "window of 100 days from 9999-12-01 ends after the last date there is"),
    ("{start: 2013-03-01, days: 10}", "days: weekend",
     "days 'weekend' does not apply to statistic 'cumulative', which counts every day of the window"),
])
def test_a_bad_window_is_one_line(window, extra, problem):
    with pytest.raises(ClaimsFileError) as err:
        parse_claims(_yaml(_entry("bad", window, "{op: at_least, value: 1}", extra=extra)), "c.yaml")
    assert any(problem in p for p in err.value.problems), err.value.problems
    assert len(err.value.problems) == 1 and "\n" not in err.value.problems[0]


def test_cumulative_counts_ice_arrests_only():
    with pytest.raises(ClaimsFileError) as err:
        parse_claims(_yaml(_entry("bi", "{start: 2013-03-01, days: 10}", "{op: at_least, value: 1}",
                                  metric="book_ins.ice_arrested")), "c.yaml")
    assert err.value.problems == [
        "c.yaml: claim 'bi' (entry 1, line 3): statistic 'cumulative' does not apply to metric "
        "book_ins.ice_arrested: a cumulative count is read as ICE arrests, metric arrests.ero_administrative "
        "(book-ins and the estimate from them are its readings)"]


def test_a_national_person_level_release_gives_the_share_of_the_months_it_covers(synthetic_warehouse):
    claims = parse_claims(_yaml(_entry("p", "{start: 2025-01-01, end: 2025-01-31}", "{op: at_least, value: 1}")),
                          "c.yaml")
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        real, synthetic = check_claims(wh, claims)[0], check_claims(wh, claims, include_synthetic=True)[0]
    assert real["evidence"][0]["coverage"]["share_source"] == ["annual reports FY2019, FY2023, FY2024"]
    assert real["synthetic"] is False
    # the synthetic release (25 field offices) replaces January's share only when asked, and says so
    assert synthetic["evidence"][0]["coverage"]["share_source"][0].startswith("person-level release (synthetic:")
    assert synthetic["synthetic"] is True and "the months a release covers: its own share" in synthetic["explanation"]
    assert synthetic["evidence"][1]["value"] == real["evidence"][1]["value"] == 11753  # the book-ins do not change


# --- the bundled statements on the bundled figures -----------------------------------------------------------

# The shares of the bundled annual reports and year-end workbooks: ICE-arrested book-ins / ERO arrests.
FY2019, FY2023, FY2024 = 137084 / 143099, 84799 / 170590, 90615 / 113431
# Jan 20-31 of January's 11,753 (31 days), all of February and March, Apr 1-29 of April's 18,215 (30 days).
FIRST_100_DAYS = 11753 * 12 / 31 + 17378 + 19123 + 18215 * 29 / 30  # 58,658.38


@pytest.fixture(scope="module")
def bundled(bundled_warehouse) -> dict[str, dict]:
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        return {v["id"]: v for v in check_claims(wh, [c for c in load_claims() if c.statistic == "cumulative"])}


def test_66000_arrests_in_the_first_100_days(bundled):
    v = bundled["ice-66000-arrests-first-100-days"]
    assert v["window"] == {"start": "2025-01-20", "end": "2025-04-29", "days": 100}
    arrests, book_ins = v["evidence"]
    assert book_ins["value"] == pytest.approx(FIRST_100_DAYS) and round(book_ins["value"]) == 58658
    assert (book_ins["kind"], book_ins["outcome"]) == ("estimate", "contradicted")
    assert book_ins["coverage"]["months"] == [
        "2025-01: 11,753 / 31 days x 12 days in the window = 4,550", "2025-02: 17,378, the whole month",
        "2025-03: 19,123, the whole month", "2025-04: 18,215 / 30 days x 29 days in the window = 17,608"]
    assert arrests["value"] == pytest.approx(FIRST_100_DAYS / FY2024)  # 73,428
    assert arrests["coverage"]["interval"] == [pytest.approx(FIRST_100_DAYS / FY2019),  # 61,232
                                               pytest.approx(FIRST_100_DAYS / FY2023)]  # 118,003
    assert arrests["outcome"] == "inconclusive" and v["verdict"] == "not checkable"
    # 66,000 +- 500 of all arrests needs 1 - 58,658 / 65,500 to 1 - 58,658 / 66,500 of them not booked in
    assert v["true_if"] == (
        "Undetermined, possible only within the estimate's interval (61,232-118,003): true only if 'arrests' "
        "counts every ERO administrative arrest and between 10.4% and 11.8% of them were not booked into "
        "detention (the shares used put that at 4.2%-50.3%).")
    assert {"icetrack_reference:d3121f7514b1c06a", "ice_detention_workbook:7ae59976379855ed"} <= set(
        arrests["editions"])
    # On May 28, 2025 the newest workbook then published (May 23, as of May 18) held slightly different months
    then = v["at_publication"]
    assert then["known_by"] == "2025-05-28" and then["verdict"] == "not checkable"
    arrests_then, book_ins_then = then["readings"]
    assert book_ins_then["value"] == pytest.approx(11754 * 12 / 31 + 17377 + 19125 + 18217 * 29 / 30)
    assert book_ins_then["editions"] == ["ice_detention_workbook:92d63367ab4940e4"]
    assert not v["shift"]["changes_verdict"]  # monthly figures do not move with a post date


def test_over_8000_in_the_first_weeks_as_a_running_count(bundled):
    v = bundled["nbc-over-8000-arrested-cumulative"]
    arrests, book_ins = v["evidence"]
    b = 11753 * 12 / 31 + 17378 * 4 / 28  # 7,032, as the 'total' reading of the same words finds
    assert book_ins["value"] == pytest.approx(b) and book_ins["outcome"] == "contradicted"
    assert arrests["value"] == pytest.approx(b / FY2024)  # 8,803
    assert arrests["coverage"]["interval"] == [pytest.approx(b / FY2019), pytest.approx(b / FY2023)]
    assert v["verdict"] == "not checkable"
    assert "at least 12.1% of them were not booked into detention" in v["true_if"]
    # on Feb 7 the newest workbook's tables ran through Jan 25: Jan 26 - Feb 4 had no figure yet
    book_ins_then = v["at_publication"]["readings"][1]
    assert book_ins_then["kind"] == "lower_bound" and book_ins_then["value"] == pytest.approx(6552 * 6 / 25)


def test_check_without_a_file_checks_every_bundled_file(icetrack):
    ids = [v["id"] for v in icetrack.json("check")]
    assert "nbc-highest-day" in ids and "ice-66000-arrests-first-100-days" in ids
    assert len(ids) == len(set(ids)) == len(load_claims())
