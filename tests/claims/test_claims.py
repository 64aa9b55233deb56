"""Claims registry: the bundled NBC claims against the bundled ICE figures, verdict rules on hand-made
figures, and malformed claims files."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import sha256
from icetrack.warehouse import engines
from icetrack.claims import ClaimsFileError, check_claims, load_claims, parse_claims
from icetrack.warehouse import open_warehouse

NBC = "https://www.nbcconnecticut.com/news/national-international/trump-angry-deportation-numbers-are-not-higher/3494812/"


@pytest.fixture(scope="module")
def bundled_verdicts(tmp_path_factory) -> dict[str, dict]:
    path = tmp_path_factory.mktemp("claims") / "wh.duckdb"
    with open_warehouse(path) as wh:  # loads the bundled reference figures and ICE workbook series
        return {v["id"]: v for v in check_claims(wh, load_claims())}


def test_bundled_file_has_the_nbc_claims_and_the_fy2024_baseline():
    claims = {c.id: c for c in load_claims()}
    assert {"nbc-daily-quota", "wapo-daily-goal", "nbc-highest-day", "nbc-tuesday-over-800",
            "nbc-weekend-about-300", "nbc-over-8000-arrested", "nbc-released-not-deported",
            "ice-fy2024-310-a-day"} <= set(claims)
    assert claims["nbc-highest-day"].url == NBC
    assert claims["nbc-highest-day"].metric.ref == "arrests.ice_posted@1"


def test_highest_day_just_1100_is_contradicted_by_icEs_own_1179(bundled_verdicts):
    v = bundled_verdicts["nbc-highest-day"]
    assert v["verdict"] == "contradicted"
    ev = v["evidence"][0]
    assert ev["value"] == 1179 and ev["at"] == ["2025-01-27"]
    # nine posts in an 18-day window: a higher unposted day could only widen the gap
    assert ev["kind"] == "lower_bound"
    assert ev["coverage"]["days_covered"] == 9 and ev["coverage"]["days_in_window"] == 18
    assert ev["coverage"]["missing"] == "2025-01-20..2025-01-22, 2025-02-01..2025-02-06"
    assert ev["source"].startswith("U.S. Immigration and Customs Enforcement")
    assert ev["edition_id"].startswith("icetrack_reference:")
    assert v["comparison"]["accepts"] == [1050, 1150]
    assert ev["summary"] == "at least 1,179 (2025-01-27)"
    assert v["difference"]["absolute"] == 79 and v["difference"]["relative"] == pytest.approx(79 / 1100)
    # the Jan 27 post reportedly described Sunday Jan 26: the shift moves the day, not the verdict
    assert v["shift"]["applies"] and v["shift"]["verdict"] == "contradicted"
    assert not v["shift"]["changes_verdict"]
    assert v["shift"]["at"] == ["2025-01-26"]


def test_over_8000_compares_posts_and_book_ins_and_states_the_definitions(bundled_verdicts):
    v = bundled_verdicts["nbc-over-8000-arrested"]
    posts, book_ins = v["evidence"]
    assert posts["metric"] == "arrests.ice_posted@1" and posts["role"] == "speaker"
    assert posts["value"] == 7314 and posts["kind"] == "lower_bound" and posts["outcome"] == "inconclusive"
    assert posts["coverage"]["missing"] == "2025-01-20..2025-01-22, 2025-02-01..2025-02-04"
    assert book_ins["metric"] == "book_ins.ice_arrested@1" and book_ins["role"] == "alternative"
    months = {o["period_start"]: (o["value"], o["weight"]) for o in book_ins["observations"]}
    assert months["2025-01-01"] == (11753, pytest.approx(12 / 31, abs=1e-6))
    assert months["2025-02-01"] == (17378, pytest.approx(4 / 28, abs=1e-6))
    assert book_ins["value"] == pytest.approx(11753 * 12 / 31 + 17378 * 4 / 28)
    assert book_ins["kind"] == "estimate" and book_ins["outcome"] == "contradicted"
    assert book_ins["coverage"]["prorated"] is True
    assert "did not detain are missing" in book_ins["definition"]
    assert book_ins["edition_id"].startswith("ice_detention_workbook:")
    # the speaker's reading cannot decide it; the other reading is a different count, so no verdict
    assert v["verdict"] == "not checkable"
    assert "figures for 2025-01-20..2025-01-22, 2025-02-01..2025-02-04" in v["settled_by"][0]
    assert "7,314" in v["explanation"] and "7,032" in v["explanation"]
    # On Feb 7 the newest workbook (published Feb 3; its Data Source line says Jan 21, its tables run through
    # Jan 25-26) had January's 6,552 ICE book-ins: seven of those days fall in the window, the rest of it was
    # not yet published. (Prorated by the edition's as-of date, the Jan 26 snapshot; the book-ins footnote
    # says through the 25th.)
    then = v["at_publication"]
    assert then["known_by"] == "2025-02-07" and then["verdict"] == "not checkable"
    posts_then, book_ins_then = then["readings"]
    assert posts_then["value"] is None  # the bundled posts carry no publication date
    assert book_ins_then["editions"] == ["ice_detention_workbook:e694221b317a071e"]
    assert book_ins_then["value"] == pytest.approx(6552 * 7 / 26) and book_ins_then["kind"] == "lower_bound"


def test_weekend_about_300_rests_on_the_post_date(bundled_verdicts):
    v = bundled_verdicts["nbc-weekend-about-300"]
    assert v["verdict"] == "supported"
    assert v["evidence"][0]["value"] == 286 and v["evidence"][0]["at"] == ["2025-01-25"]
    # moved back a day, Saturday's figure is the 956 of the Jan 26 post and no posted weekend day is near 300
    assert v["shift"]["changes_verdict"] and v["shift"]["verdict"] == "not checkable"
    assert v["shift"]["value"] == 956


def test_tuesday_over_800_and_the_fy2024_baseline_are_supported(bundled_verdicts):
    tuesday = bundled_verdicts["nbc-tuesday-over-800"]
    assert tuesday["verdict"] == "supported" and tuesday["evidence"][0]["value"] == 969
    assert tuesday["evidence"][0]["coverage"]["missing"] == "2025-01-21, 2025-02-04"
    assert tuesday["shift"]["value"] == 1016 and not tuesday["shift"]["changes_verdict"]
    baseline = bundled_verdicts["ice-fy2024-310-a-day"]
    assert baseline["verdict"] == "supported"
    assert baseline["evidence"][0]["value"] == pytest.approx(113431 / 366)
    assert baseline["evidence"][0]["kind"] == "exact" and baseline["evidence"][0]["summary"] == "309.9"
    assert baseline["shift"]["verdict"] == "supported"  # annual totals do not move with a post-date shift


def test_quota_reports_disagree_on_the_upper_end(bundled_verdicts):
    for cid in ("nbc-daily-quota", "wapo-daily-goal"):
        v = bundled_verdicts[cid]
        assert v["verdict"] == "depends on definition"
        reports = {o["reported_by"]: (o["value_low"], o["value_high"], o["agrees"])
                   for o in v["evidence"][0]["observations"]}
        assert reports["NBC News"][:2] == (1200, 1400) and reports["Washington Post"][:2] == (1200, 1500)
        assert v["shift"]["applies"] is False
        assert v["evidence"][0]["summary"] == "Washington Post 1,200-1,500; NBC News 1,200-1,400"
    assert bundled_verdicts["nbc-daily-quota"]["evidence"][0]["coverage"] == {"reports": 2, "agreeing": 1}


def test_claims_needing_data_not_loaded_say_which_source_settles_them(bundled_verdicts):
    released = bundled_verdicts["nbc-released-not-deported"]
    assert released["verdict"] == "not checkable" and released["evidence"][0]["value"] is None
    assert "person-level release covering the window" in released["settled_by"][0]
    september = bundled_verdicts["ice-sept-2024-282-a-day"]
    assert september["verdict"] == "not checkable"
    assert "2023-10-01..2024-09-30, which does not fit inside the window" in september["evidence"][0]["reason"]


def test_cli_check_json_and_table(icetrack):
    verdicts = {v["id"]: v for v in icetrack.json("check")}
    assert verdicts["nbc-highest-day"]["verdict"] == "contradicted"
    out = icetrack("check").stdout
    # the explanations below the table are never wrapped
    assert "highest day at least 1,179 on 2025-01-27 -> contradicted" in out
    assert "1 of 2 reports agree (Washington Post 1,200-1,500, NBC News 1,200-1,400)" in out
    assert "one-day shift: with daily figures moved back one day" in out
    definitions = {d["definition"]: d for d in icetrack.json("check", "--definitions")}
    assert definitions["book_ins.ice_arrested@1"]["measured_by"] == [{"measure": "book_ins", "dims": {"agency": "ICE"}}]
    assert definitions["removals.ice@2"]["changes"].startswith("FY2025")
    assert definitions["detained.24_hour@1"]["measured_by"] == []
    assert "book_ins" in icetrack("check", "--definitions").stdout  # the table names the stored measures


# --- verdict rules on hand-made figures (dates in 2013, years before any figure icetrack bundles) -------------------------

FIGURES = """\
date,period_end,measure,value,unit,source_url,dim_agency
2013-03-01,,ice_posted_arrests,100,arrests,https://example.org/posts,
2013-03-02,,ice_posted_arrests,300,arrests,https://example.org/posts,
2013-03-03,,ice_posted_arrests,700,arrests,https://example.org/posts,
2013-03-04,,ice_posted_arrests,500,arrests,https://example.org/posts,
2013-03-05,,ice_posted_arrests,400,arrests,https://example.org/posts,
2013-03-06,,ice_posted_arrests,200,arrests,https://example.org/posts,
2013-03-07,,ice_posted_arrests,600,arrests,https://example.org/posts,
2013-03-01,2013-03-31,book_ins,3100,book-ins,https://example.org/workbook,ICE
2013-04-01,2013-04-30,book_ins,6000,book-ins,https://example.org/workbook,ICE
"""


def _claims_yaml(*entries: str) -> str:
    return "format: icetrack-claims/1\nclaims:\n" + "".join(entries)


def _entry(cid: str, metric: str, statistic: str, start: str, end: str, comparison: str, extra: str = "") -> str:
    fields = [f"id: {cid}", f"text: test claim {cid}", "outlet: test", "published_on: 2013-05-01",
              f"url: https://example.org/{cid}", f"metric: {metric}", f"statistic: {statistic}",
              f"window: {{start: {start}, end: {end}}}", f"comparison: {comparison}", *extra.splitlines()]
    return "  - " + "\n    ".join(fields) + "\n"


@pytest.fixture(scope="module")
def figures_warehouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("figures")
    (folder / "figures.csv").write_text(FIGURES)
    from icetrack.sources import parse_file

    path = folder / "wh.duckdb"
    with open_warehouse(path) as wh:
        wh.load(parse_file(folder / "figures.csv"))
    return path


def _check(path: Path, *entries: str) -> dict[str, dict]:
    claims = parse_claims(_claims_yaml(*entries), "test.yaml")
    with open_warehouse(path, read_only=True) as wh:
        return {v["id"]: v for v in check_claims(wh, claims)}


def test_statistics_over_a_fully_covered_window_are_exact(figures_warehouse):
    w = ("arrests.ice_posted", "2013-03-01", "2013-03-07")
    v = _check(figures_warehouse,
               _entry("total", *w[:1], "total", *w[1:], "{op: equals, value: 2800}"),
               _entry("mean", *w[:1], "mean_per_day", *w[1:], "{op: approximately, value: 390, tolerance: 10}"),
               _entry("max", *w[:1], "max_day", *w[1:], "{op: at_most, value: 699}"),
               _entry("min", *w[:1], "min_day", *w[1:], "{op: at_least, value: 100}"),
               _entry("weekend", *w[:1], "any_day", *w[1:], "{op: approximately, value: 250, tolerance: '20%'}",
                      "days: weekend\n"))
    assert (v["total"]["verdict"], v["total"]["evidence"][0]["value"], v["total"]["evidence"][0]["kind"]) == \
        ("supported", 2800, "exact")
    assert (v["mean"]["verdict"], v["mean"]["evidence"][0]["value"]) == ("supported", 400)
    assert (v["max"]["verdict"], v["max"]["evidence"][0]["value"], v["max"]["evidence"][0]["at"]) == \
        ("contradicted", 700, ["2013-03-03"])
    assert (v["min"]["verdict"], v["min"]["evidence"][0]["value"]) == ("supported", 100)
    # 2013-03-02 is a Saturday (300), 2013-03-03 a Sunday (700); 20% of 250 accepts 200..300
    assert v["weekend"]["verdict"] == "supported" and v["weekend"]["evidence"][0]["at"] == ["2013-03-02"]
    assert v["weekend"]["comparison"]["accepts"] == [200, 300]
    # moved back one day, the weekend is the 3rd and 4th posts (700, 500): fully covered, none near 250
    assert v["weekend"]["shift"]["verdict"] == "contradicted"
    # moved back a day the window loses its first post and gains no other: the total becomes a lower bound
    assert v["total"]["shift"]["kind"] == "lower_bound" and v["total"]["shift"]["value"] == 2700


def test_partial_coverage_gives_bounds_not_verdicts(figures_warehouse):
    v = _check(figures_warehouse,
               _entry("lo", "arrests.ice_posted", "total", "2013-03-01", "2013-03-10", "{op: at_least, value: 2000}"),
               _entry("hi", "arrests.ice_posted", "total", "2013-03-01", "2013-03-10", "{op: at_least, value: 5000}"),
               _entry("mx", "arrests.ice_posted", "max_day", "2013-03-01", "2013-03-10", "{op: at_most, value: 800}"),
               _entry("mn", "arrests.ice_posted", "min_day", "2013-03-01", "2013-03-10", "{op: at_most, value: 150}"))
    assert v["lo"]["verdict"] == "supported"  # 2,800 already counted on 7 of 10 days
    assert v["hi"]["verdict"] == "not checkable" and v["hi"]["evidence"][0]["kind"] == "lower_bound"
    assert v["hi"]["evidence"][0]["coverage"]["missing"] == "2013-03-08..2013-03-10"
    assert v["mx"]["verdict"] == "not checkable"  # an unposted day could exceed 800
    assert v["mn"]["verdict"] == "supported"  # the lowest day is at most 100 whatever the missing days hold


def test_monthly_figures_are_prorated_and_whole_months_are_exact(figures_warehouse):
    v = _check(figures_warehouse,
               _entry("cut", "book_ins.ice_arrested", "total", "2013-03-20", "2013-04-10",
                      "{op: approximately, value: 3200, tolerance: 1}"),
               _entry("whole", "book_ins.ice_arrested", "total", "2013-03-01", "2013-04-30",
                      "{op: equals, value: 9100}"),
               _entry("daily", "book_ins.ice_arrested", "max_day", "2013-03-01", "2013-04-30",
                      "{op: at_least, value: 1}"))
    cut = v["cut"]["evidence"][0]
    assert cut["value"] == pytest.approx(3100 * 12 / 31 + 6000 * 10 / 30) and cut["kind"] == "estimate"
    assert v["cut"]["verdict"] == "supported"
    assert v["whole"]["evidence"][0]["kind"] == "exact" and v["whole"]["verdict"] == "supported"
    assert v["daily"]["verdict"] == "not checkable"
    assert "needs daily figures" in v["daily"]["evidence"][0]["reason"]


def test_readings_that_disagree_make_the_verdict_depend_on_the_definition(figures_warehouse):
    v = _check(figures_warehouse,
               _entry("two", "arrests.ice_posted", "total", "2013-03-01", "2013-03-07", "{op: at_least, value: 2500}",
                      "alternatives: [book_ins.ice_arrested]\n"))["two"]
    posts, book_ins = v["evidence"]
    assert (posts["outcome"], posts["value"]) == ("supported", 2800)
    assert book_ins["outcome"] == "contradicted" and book_ins["value"] == pytest.approx(700)
    assert v["verdict"] == "depends on definition"


def test_the_month_of_an_as_of_date_counts_only_up_to_it_and_vintages_follow_publication(tmp_path):
    from icetrack.sources import parse_file

    early = tmp_path / "early.csv"
    early.write_text("date,period_end,measure,value,unit,source_url,dim_agency,as_of,published_on\n"
                     "2013-06-01,2013-06-30,book_ins,1000,book-ins,https://example.org/w1,ICE,2013-06-10,2013-06-15\n")
    late = tmp_path / "late.csv"
    late.write_text("date,period_end,measure,value,unit,source_url,dim_agency,as_of,published_on\n"
                    "2013-06-01,2013-06-30,book_ins,3000,book-ins,https://example.org/w2,ICE,2013-07-05,2013-07-10\n")
    path = tmp_path / "wh.duckdb"
    with open_warehouse(path) as wh:
        wh.load_many([parse_file(early), parse_file(late)])
    entry = _entry("june", "book_ins.ice_arrested", "total", "2013-06-01", "2013-06-30", "{op: at_least, value: 2000}")
    claims = parse_claims(_claims_yaml(entry.replace("published_on: 2013-05-01", "published_on: 2013-06-20")),
                          "c.yaml")
    with open_warehouse(path, read_only=True) as wh:
        v = check_claims(wh, claims)[0]
    ev = v["evidence"][0]
    assert (ev["value"], ev["kind"], v["verdict"]) == (3000, "exact", "supported")
    # on June 20 only the edition as of June 10 was public: 1,000 book-ins in 10 of the 30 days
    then = v["at_publication"]["readings"][0]
    assert (then["value"], then["kind"], then["outcome"]) == (1000, "lower_bound", "inconclusive")
    assert v["at_publication"]["verdict"] == "not checkable" and v["at_publication"]["changes_verdict"] is True
    assert "figures published by 2013-06-20" in v["explanation"]


def test_checking_never_writes_the_warehouse(figures_warehouse, tmp_path):
    before = sha256(figures_warehouse)
    _check(figures_warehouse, _entry("t", "arrests.ice_posted", "total", "2013-03-01", "2013-03-07",
                                     "{op: equals, value: 2800}"))
    assert sha256(figures_warehouse) == before


# --- malformed claims files -----------------------------------------------------------------------------

def test_every_problem_of_a_malformed_file_is_listed_one_line_each(icetrack, tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text(_claims_yaml(
        _entry("one", "arrests.posted", "total", "2025-01-01", "2025-01-31", "{op: at_least, value: 1}"),
        _entry("two", "arrests.ice_posted", "total", "2025-02-10", "2025-02-01", "{op: at_least, value: 1}"),
        _entry("three", "book_ins.all", "max_day", "2025-01-01", "2025-01-31", "{op: about, value: x}",
               "colour: red\n"),
    ).replace("    url: https://example.org/two\n", ""))
    result = icetrack("check", str(bad), expect=2)
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("icetrack: error: claims.yaml: claim '") for line in lines)
    assert any("'one'" in x and "unknown metric 'arrests.posted' (did you mean 'arrests.ice_posted'?)" in x
               for x in lines)
    assert any("'two'" in x and "missing url" in x for x in lines)
    assert any("'two'" in x and "window is inverted: start 2025-02-10 is after end 2025-02-01" in x for x in lines)
    assert any("'three'" in x and "unknown field 'colour'" in x for x in lines)
    assert any("'three'" in x and "comparison op 'about'" in x for x in lines)
    assert any("'three'" in x and "comparison value 'x' is not a number" in x for x in lines)
    assert len(lines) == 6
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text, problem", [
    ("format: icetrack-claims/1\nclaims: [\n", "line 3: not valid YAML"),
    ("- just\n- a list\n", "expected a mapping with 'format: icetrack-claims/1'"),
    ("format: icetrack-claims/2\nclaims: []\n", "format is 'icetrack-claims/2'"),
    (_claims_yaml(_entry("d", "arrests.ice_posted", "total", "2025-01-01", "2025-02-30",
                         "{op: at_least, value: 1}")), "window start/end must be valid dates"),
    (_claims_yaml(_entry("v", "arrests.ice_posted@7", "total", "2025-01-01", "2025-01-02",
                         "{op: at_least, value: 1}")), "arrests.ice_posted has no such version (versions: 1)"),
    (_claims_yaml(_entry("s", "detained.adp_midnight", "total", "2025-01-01", "2025-01-02",
                         "{op: at_least, value: 1}")), "is a level (averaged)"),
    (_claims_yaml(_entry("t", "targets.daily_arrests", "total", "2025-01-01", "2025-01-02",
                         "{op: at_least, value: 1}")), "reported_target goes with targets.daily_arrests"),
    (_claims_yaml(_entry("dup", "arrests.ice_posted", "total", "2025-01-01", "2025-01-02", "{op: at_least, value: 1}"),
                  _entry("dup", "arrests.ice_posted", "total", "2025-01-01", "2025-01-02", "{op: at_least, value: 1}")),
     "id 'dup' is used by an earlier claim"),
])
def test_malformed_files_are_refused_with_the_problem(text, problem):
    with pytest.raises(ClaimsFileError) as err:
        parse_claims(text, "c.yaml")
    assert any(problem in p for p in err.value.problems), err.value.problems
    assert all("\n" not in p and p.startswith("c.yaml: ") for p in err.value.problems)


def test_a_missing_claims_file_is_one_line(icetrack, tmp_path):
    result = icetrack("check", str(tmp_path / "none.yaml"), expect=2)
    assert result.stderr.strip() == "icetrack: error: none.yaml: no such file"


# --- person-level readings ------------------------------------------------------------------------------

COHORT_CLAIM = _claims_yaml(_entry(
    "cohort", "outcomes.released_from_cohort", "total", "2024-11-01", "2025-01-31", "{op: at_least, value: 10}",
    "alternatives: [outcomes.removed_from_cohort]"))


def test_synthetic_releases_are_never_evidence_unless_asked(synthetic_warehouse):
    claims = parse_claims(COHORT_CLAIM, "c.yaml")
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        v = check_claims(wh, claims)[0]
    assert v["verdict"] == "not checkable" and v["synthetic"] is False
    assert "only synthetic person-level releases are loaded" in v["evidence"][0]["reason"]


def test_cohort_readings_count_the_funnel_states_in_the_window(synthetic_warehouse):
    from icetrack.metrics import outcomes as oc

    claims = parse_claims(COHORT_CLAIM, "c.yaml")
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        v = check_claims(wh, claims, include_synthetic=True)[0]
        funnel = oc.funnel(engines.from_warehouse(wh.ibis()), "day").to_pandas()
    in_window = funnel[(funnel.cohort.astype(str) >= "2024-11-01") & (funnel.cohort.astype(str) <= "2025-01-31")]
    released = int(in_window[in_window.state == "released"].n.sum())
    removed = int(in_window[in_window.state.isin(["removed", "removed_without_detention"])].n.sum())
    assert released >= 10 and removed >= 10  # both above the suppression threshold for this seed
    released_ev, removed_ev = v["evidence"]
    assert released_ev["value"] == released and removed_ev["value"] == removed
    assert released_ev["kind"] == "exact" and released_ev["coverage"]["national"] is True  # 25 field offices
    assert v["synthetic"] is True and v["verdict"] == "supported"
    assert released_ev["observations"][0]["cohort_arrests"] == int(in_window.n.sum())


def test_cohort_counts_below_the_threshold_are_suppressed(synthetic_warehouse):
    claims = parse_claims(_claims_yaml(_entry(
        "day", "outcomes.released_from_cohort", "total", "2024-11-05", "2024-11-05", "{op: at_least, value: 500}")),
        "c.yaml")
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        v = check_claims(wh, claims, include_synthetic=True)[0]
    ev = v["evidence"][0]
    assert ev["value"] is None and ev["observations"][0]["value"] is None
    assert ev["reason"] == "fewer than 10 arrests (suppressed)"
    # a national count below 10 is still known to be below 500
    assert v["verdict"] == "contradicted"


def test_a_one_field_office_release_gives_only_a_lower_bound(shared_data, tmp_path):
    """The real UWCHR joined file (Washington State; arrests in 4 field offices, 44 of 47 Seattle): the NBC
    'released' claim stays not checkable."""
    from helpers import Icetrack

    run = Icetrack(tmp_path / "wh.duckdb")
    run("ingest", str(shared_data / "uwchr-deport-data-proj/joined_df_wa.csv"))
    v = {x["id"]: x for x in run.json("check")}["nbc-released-not-deported"]
    ev = v["evidence"][0]
    assert v["verdict"] == "not checkable"
    assert ev["coverage"]["national"] is False and ev["coverage"]["aors"] == 4
    assert ev["kind"] == "lower_bound" and ev["value"] is None and ev["coverage"]["suppressed"] is True
    assert "only 4 field offices, so a lower bound for the nation" in v["explanation"]


def test_a_counting_rule_measures_only_the_years_it_was_in_force(icetrack, tmp_path):
    """FY2024 removals count by rule 1 (271,484 in the annual report); FY2025's workbook figure counts by rule 2."""
    claims = tmp_path / "removals.yaml"
    claims.write_text(_claims_yaml(
        _entry("fy24", "removals.ice@1", "total", "2023-10-01", "2024-09-30", "{op: approximately, value: 271000, "
               "tolerance: '1%'}"),
        _entry("fy25-old-rule", "removals.ice@1", "total", "2024-10-01", "2025-09-06", "{op: at_least, value: 1}"),
        _entry("fy25", "removals.ice@2", "total", "2024-10-01", "2025-09-06", "{op: at_least, value: 300000}")))
    v = {x["id"]: x for x in icetrack.json("check", str(claims))}
    assert v["fy24"]["verdict"] == "supported" and v["fy24"]["evidence"][0]["value"] == 271484
    assert v["fy25-old-rule"]["verdict"] == "not checkable"
    assert "count by removals.ice@1 only from the start to 2024-09-30" in v["fy25-old-rule"]["evidence"][0]["reason"]
    fy25 = v["fy25"]["evidence"][0]
    # the FY2025 workbook of 2025-09-02 (its Data Source line) reports 302,192 removals since Oct 1, through
    # 2025-09-06 by its footnote
    assert (v["fy25"]["verdict"], fy25["value"], fy25["kind"]) == ("supported", 302192, "exact")
